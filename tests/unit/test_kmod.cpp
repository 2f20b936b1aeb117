#include "imainit/cpio.h"
#include "imainit/kmod.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <lzma.h>

using namespace imainit;

namespace
{

// The modules.dep of Debian's 6.1 kernel for the modules a virtio/ext4
// boot needs (paths as depmod writes them).
constexpr std::string_view debian_dep =
    "kernel/arch/x86/crypto/crc32c-intel.ko:\n"
    "kernel/fs/mbcache.ko:\n"
    "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n"
    "kernel/fs/jbd2/jbd2.ko:\n"
    "kernel/crypto/crc32c_generic.ko:\n"
    "kernel/lib/crc16.ko:\n"
    "kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/virtio/virtio_ring.ko:\n"
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
    "kernel/drivers/virtio/virtio_pci_legacy_dev.ko:\n"
    "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko "
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko "
    "kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko "
    "kernel/drivers/virtio/virtio_ring.ko\n";

constexpr std::string_view debian_softdep =
    "# Soft dependencies extracted from modules themselves.\n"
    "softdep ext4 pre: crypto-crc32c\n"
    "softdep jbd2 pre: crypto-crc32c\n"
    "softdep libcrc32c pre: crc32c\n";

constexpr std::string_view debian_alias = "# Aliases extracted from modules themselves.\n"
					  "alias crypto-crc32c-intel crc32c_intel\n"
					  "alias crypto-crc32c crc32c_intel\n"
					  "alias crypto-crc32c-generic crc32c_generic\n"
					  "alias crypto-crc32c crc32c_generic\n"
					  "alias virtio:d00000002v* virtio_blk\n";

ModuleIndex debian_index()
{
	ModuleIndex idx;
	idx.dir = "/lib/modules/6.1.0-test-amd64";
	auto dep = parse_modules_dep(debian_dep);
	REQUIRE(dep);
	idx.modules = std::move(*dep);
	idx.softdeps = parse_modules_softdep(debian_softdep);
	idx.aliases = parse_modules_alias(debian_alias);
	idx.builtin = parse_modules_builtin("kernel/drivers/virtio/virtio_anchor.ko\n"
					    "kernel/lib/crc32.ko\n");
	return idx;
}

std::vector<std::string> names(const ModuleResolution &r)
{
	std::vector<std::string> v;
	for (auto &m : r.modules)
		v.push_back(m.name);
	return v;
}

const ResolvedModule &module(const ModuleResolution &r, const std::string &name)
{
	for (auto &m : r.modules)
		if (m.name == name)
			return m;
	FAIL("module " << name << " not resolved");
	return r.modules.front();
}

// Every module comes after all the modules its modules.dep line names.
void check_dependencies_first(const ModuleIndex &idx, const ModuleResolution &r)
{
	auto v = names(r);
	for (size_t i = 0; i < v.size(); i++) {
		for (auto &d : idx.modules.at(v[i]).deps) {
			auto at = std::find(v.begin(), v.end(), d);
			REQUIRE(at != v.end());
			CHECK_MESSAGE(at - v.begin() < static_cast<long>(i),
				      d << " must load before " << v[i]);
		}
	}
	std::set<std::string> unique(v.begin(), v.end());
	CHECK(unique.size() == v.size());
}

std::string resolve_error(const ModuleIndex &idx, std::vector<ModuleRequest> req)
{
	auto r = resolve_modules(idx, req);
	return r ? std::string("(resolved)") : r.error().what();
}

// An ELF header and some body, ending in the marker that scripts/sign-file
// appends after the PKCS#7 signature.
Bytes fake_module(size_t body = 5000)
{
	Bytes m(sizeof(Elf64_Ehdr) + body);
	std::memcpy(m.data(), ELFMAG, SELFMAG);
	m[EI_CLASS] = ELFCLASS64;
	m[EI_DATA] = ELFDATA2LSB;
	m[EI_VERSION] = EV_CURRENT;
	for (size_t i = sizeof(Elf64_Ehdr); i < m.size(); i++)
		m[i] = static_cast<uint8_t>((i * 131) ^ (i >> 7));
	std::string_view marker = "~Module signature appended~\n";
	m.insert(m.end(), marker.begin(), marker.end());
	return m;
}

std::string image_error(const Bytes &file, std::string_view name)
{
	auto r = module_image(file, name);
	return r ? std::string("(accepted)") : r.error().what();
}

struct TempDir {
	std::filesystem::path path;
	TempDir()
	{
		char t[] = "/tmp/test-kmod.XXXXXX";
		REQUIRE(::mkdtemp(t));
		path = t;
	}
	~TempDir() { std::filesystem::remove_all(path); }
	void write(const std::filesystem::path &rel, std::string_view text) const
	{
		std::filesystem::create_directories((path / rel).parent_path());
		std::ofstream(path / rel) << text;
	}
};

} // namespace

TEST_CASE("kmod: module names and file names")
{
	CHECK(module_name("kernel/arch/x86/crypto/crc32c-intel.ko.xz") == "crc32c_intel");
	CHECK(module_name("kernel/fs/ext4/ext4.ko") == "ext4");
	CHECK(module_name("virtio_blk.ko.zst") == "virtio_blk");
	CHECK(module_name("/abs/path/jbd2.ko.gz") == "jbd2");
	for (auto ok : { "a.ko", "dir/a.ko.gz", "a.ko.xz", "a.ko.zst" })
		CHECK_MESSAGE(is_module_file_name(ok), ok);
	for (auto bad : { "a.o", "a.ko.bz2", "a.xz", "ko", "a.kox" })
		CHECK_MESSAGE(!is_module_file_name(bad), bad);
	CHECK(uncompressed_module_file_name("kernel/x/crc32c-intel.ko.xz") ==
	      "kernel/x/crc32c-intel.ko");
	CHECK(uncompressed_module_file_name("a.ko.zst") == "a.ko");
	CHECK(uncompressed_module_file_name("a.ko") == "a.ko");
}

TEST_CASE("kmod: modules.dep")
{
	auto dep = parse_modules_dep(debian_dep);
	REQUIRE(dep);
	CHECK(dep->size() == 12);
	auto &ext4 = dep->at("ext4");
	CHECK(ext4.path == "kernel/fs/ext4/ext4.ko");
	CHECK(ext4.deps == std::vector<std::string>{ "crc16", "mbcache", "jbd2" });
	CHECK(dep->at("crc32c_intel").path == "kernel/arch/x86/crypto/crc32c-intel.ko");
	CHECK(dep->at("virtio_ring").deps.empty());

	auto err = [](std::string_view text) {
		auto r = parse_modules_dep(text);
		return r ? std::string("(accepted)") : r.error().what();
	};
	CHECK(err("kernel/a.ko:\n\nkernel/b.ko kernel/a.ko\n") ==
	      "modules.dep:3: no ':' after the module path");
	CHECK(err("kernel/a.ko:\nother/a.ko.xz:\n") ==
	      "modules.dep:2: module a is listed twice (kernel/a.ko and other/a.ko.xz)");
	CHECK(err("kernel/a.txt:\n") == "modules.dep:1: 'kernel/a.txt' is not a module file");
	CHECK(err("kernel/a.ko: kernel/b.o\n") ==
	      "modules.dep:1: dependency 'kernel/b.o' is not a module file");
	// Compressed paths and a missing final newline.
	auto z = parse_modules_dep("kernel/a.ko.zst: kernel/b-c.ko.zst");
	REQUIRE(z);
	CHECK(z->at("a").deps == std::vector<std::string>{ "b_c" });
}

TEST_CASE("kmod: modules.softdep, modules.alias, modules.builtin")
{
	auto sd = parse_modules_softdep("softdep a pre: b c post: d\nsoftdep x-y post: z\n"
					"# comment\noptions a x=1\nsoftdep\n"
					"softdep cifs gcm\nsoftdep cifs pre: ccm\n");
	CHECK(sd.size() == 3);
	CHECK(sd.at("a").pre == std::vector<std::string>{ "b", "c" });
	CHECK(sd.at("a").post == std::vector<std::string>{ "d" });
	CHECK(sd.at("x_y").post == std::vector<std::string>{ "z" });
	// Debian's depmod output for MODULE_SOFTDEP("gcm"): ignored, as kmod does.
	CHECK(sd.at("cifs").pre == std::vector<std::string>{ "ccm" });
	CHECK(sd.at("cifs").post.empty());

	auto alias = parse_modules_alias(debian_alias);
	CHECK(alias.at("crypto-crc32c") ==
	      std::set<std::string>{ "crc32c_generic", "crc32c_intel" });
	CHECK(alias.count("virtio:d00000002v*") == 0); // a pattern, never an exact name

	auto builtin = parse_modules_builtin("kernel/lib/crc32.ko\nkernel/drivers/a-b.ko\n\n");
	CHECK(builtin == std::set<std::string>{ "crc32", "a_b" });
}

TEST_CASE("kmod: resolution puts dependencies first, each module once")
{
	auto idx = debian_index();
	std::vector<ModuleRequest> req = {
		{ "virtio_pci" }, { "virtio-blk" }, { "crc32c_generic" }, { "ext4" }
	};
	auto r = resolve_modules(idx, req);
	REQUIRE(r);
	// modprobe's order: the last dependency of a modules.dep line first.
	CHECK(names(*r) ==
	      std::vector<std::string>{ "virtio_ring", "virtio", "virtio_pci_modern_dev",
					"virtio_pci_legacy_dev", "virtio_pci", "virtio_blk",
					"crc32c_generic", "jbd2", "mbcache", "crc16", "ext4" });
	check_dependencies_first(idx, *r);
	CHECK(module(*r, "virtio_ring").path == "kernel/drivers/virtio/virtio_ring.ko");
	CHECK(module(*r, "virtio_ring").needed_by == "virtio_pci");
	CHECK(module(*r, "virtio").needed_by == "virtio_pci");
	CHECK(module(*r, "virtio_pci").needed_by.empty());
	CHECK(module(*r, "virtio_blk").request == 1);
	CHECK(module(*r, "jbd2").request == 3);
	for (auto &m : r->modules)
		CHECK_MESSAGE(!m.optional, m.name);
	// crc32c_generic provides crypto-crc32c: no note about ext4/jbd2.
	CHECK(r->notes.empty());
}

TEST_CASE("kmod: a dependency of a required module is required")
{
	auto idx = debian_index();
	std::vector<ModuleRequest> req = { { "virtio_blk", true }, { "virtio_pci", false } };
	auto r = resolve_modules(idx, req);
	REQUIRE(r);
	check_dependencies_first(idx, *r);
	CHECK(module(*r, "virtio_blk").optional);
	CHECK(!module(*r, "virtio").optional);
	CHECK(!module(*r, "virtio_ring").optional);
	CHECK(!module(*r, "virtio_pci").optional);
	CHECK(module(*r, "virtio").request == 0); // first needed by the optional request

	std::vector<ModuleRequest> only_optional = { { "virtio_blk", true } };
	auto o = resolve_modules(idx, only_optional);
	REQUIRE(o);
	CHECK(names(*o) == std::vector<std::string>{ "virtio_ring", "virtio", "virtio_blk" });
	for (auto &m : o->modules)
		CHECK_MESSAGE(m.optional, m.name);
}

TEST_CASE("kmod: resolution notes")
{
	auto idx = debian_index();
	std::vector<ModuleRequest> req = { { "ext4" }, { "crc32" } };
	auto r = resolve_modules(idx, req);
	REQUIRE(r);
	CHECK(names(*r) == std::vector<std::string>{ "jbd2", "mbcache", "crc16", "ext4" });
	REQUIRE(r->notes.size() == 3);
	CHECK(r->notes[0] == "crc32 is built into the kernel: nothing to load");
	CHECK(r->notes[1] ==
	      "jbd2 has a soft dependency on crypto-crc32c (provided by crc32c_generic or "
	      "crc32c_intel) that is not in the payload; add it if the kernel needs it before "
	      "the root is mounted");
	CHECK(r->notes[2].starts_with("ext4 has a soft dependency on crypto-crc32c"));

	// Satisfied by a module name, an alias or a built-in module.
	idx.builtin.insert("crc32c_intel");
	std::vector<ModuleRequest> just_ext4 = { { "ext4" } };
	auto b = resolve_modules(idx, just_ext4);
	REQUIRE(b);
	CHECK(b->notes.empty());
}

TEST_CASE("kmod: resolution errors name the module")
{
	auto idx = debian_index();
	CHECK(resolve_error(idx, { { "virtio_blkk" } }) ==
	      "no module virtio_blkk in /lib/modules/6.1.0-test-amd64 (neither in modules.dep "
	      "nor in modules.builtin)");
	CHECK(resolve_error(idx, { { "kernel/fs/ext4/ext4" } }) ==
	      "'kernel/fs/ext4/ext4' is not a module name");
	CHECK(resolve_error(idx, { { "" } }) == "'' is not a module name");

	auto broken = idx;
	broken.modules.erase("virtio_ring");
	CHECK(resolve_error(broken, { { "virtio_blk" } }) ==
	      "missing dependency: virtio_blk needs virtio_ring, but modules.dep has no entry for "
	      "virtio_ring (regenerate it with depmod)");

	auto cyclic = idx;
	cyclic.modules.at("virtio_ring").deps.push_back("virtio_blk");
	CHECK(resolve_error(cyclic, { { "virtio_blk" } }) ==
	      "dependency cycle in modules.dep: virtio_blk -> virtio_ring -> virtio_blk");
}

TEST_CASE("kmod: load_module_index")
{
	TempDir t;
	std::string dir = (t.path / "lib/modules/6.1.0-test").string();
	std::filesystem::create_directories(dir);
	auto missing = load_module_index(dir);
	REQUIRE(!missing);
	CHECK(missing.error().what() ==
	      dir +
		  "/modules.dep is missing (a kernel package unpacked with dpkg -x has none "
		  "until depmod runs): run depmod -b " +
		  t.path.string() + " 6.1.0-test");

	// A tree that is not below lib/modules: the generic form of the hint.
	auto other = load_module_index(t.path.string());
	REQUIRE(!other);
	CHECK(other.error().what().ends_with(
	    "run depmod -b BASE VERSION for a tree at BASE/lib/modules/VERSION"));

	// Trees at / and relative ones.
	auto at_root = load_module_index("/lib/modules/6.1.0-kmod-test-none/");
	REQUIRE(!at_root);
	CHECK(at_root.error().what().ends_with("run depmod -b / 6.1.0-kmod-test-none"));
	auto relative = load_module_index("lib/modules/6.1.0-kmod-test-none");
	REQUIRE(!relative);
	CHECK(relative.error().what().ends_with("run depmod -b . 6.1.0-kmod-test-none"));

	t.write("lib/modules/6.1.0-test/modules.dep", debian_dep);
	auto only_dep = load_module_index(dir);
	REQUIRE(only_dep);
	CHECK(only_dep->modules.size() == 12);
	CHECK(only_dep->builtin.empty());
	CHECK(only_dep->dir == dir);

	t.write("lib/modules/6.1.0-test/modules.softdep", debian_softdep);
	t.write("lib/modules/6.1.0-test/modules.alias", debian_alias);
	t.write("lib/modules/6.1.0-test/modules.builtin", "kernel/lib/crc32.ko\n");
	auto full = load_module_index(dir);
	REQUIRE(full);
	CHECK(full->softdeps.at("ext4").pre == std::vector<std::string>{ "crypto-crc32c" });
	CHECK(full->aliases.at("crypto-crc32c").size() == 2);
	CHECK(full->builtin == std::set<std::string>{ "crc32" });

	// Any other read error is reported as it is.
	std::filesystem::remove(t.path / "lib/modules/6.1.0-test/modules.builtin");
	std::filesystem::create_directory(t.path / "lib/modules/6.1.0-test/modules.builtin");
	auto unreadable = load_module_index(dir);
	REQUIRE(!unreadable);
	CHECK(unreadable.error().err == EISDIR);
	std::filesystem::remove(t.path / "lib/modules/6.1.0-test/modules.builtin");
	std::filesystem::rename(t.path / "lib/modules/6.1.0-test/modules.dep",
				t.path / "lib/modules/6.1.0-test/modules.dep.orig");
	std::filesystem::create_directory(t.path / "lib/modules/6.1.0-test/modules.dep");
	auto dep_dir = load_module_index(dir);
	REQUIRE(!dep_dir);
	CHECK(dep_dir.error().err == EISDIR);
	std::filesystem::remove(t.path / "lib/modules/6.1.0-test/modules.dep");

	t.write("lib/modules/6.1.0-test/modules.dep", "kernel/a.ko\n");
	auto bad = load_module_index(dir);
	REQUIRE(!bad);
	CHECK(bad.error().what() == dir + ": modules.dep:1: no ':' after the module path");
}

TEST_CASE("kmod: module images are decompressed with the signature intact")
{
	Bytes m = fake_module();
	auto plain = module_image(m, "a.ko");
	REQUIRE(plain);
	CHECK(*plain == m);
	for (auto [c, suffix] :
	     { std::pair{ Compression::gzip, ".gz" }, std::pair{ Compression::xz, ".xz" },
	       std::pair{ Compression::zstd, ".zst" } }) {
		auto z = compress(m, c);
		REQUIRE(z);
		CHECK(z->size() < m.size());
		auto img = module_image(*z, std::string("kernel/a.ko") + suffix);
		REQUIRE_MESSAGE(img, suffix);
		CHECK(*img == m);
		std::string_view tail(
		    reinterpret_cast<const char *>(img->data()) + img->size() - 28, 28);
		CHECK(tail == "~Module signature appended~\n");
	}

	// xz's own default check (CRC64), which the kernel's decoder lacks:
	// fine at pack time.
	Bytes crc64(m.size() + 1024);
	size_t pos = 0;
	REQUIRE(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, m.data(), m.size(),
					crc64.data(), &pos, crc64.size()) == LZMA_OK);
	crc64.resize(pos);
	auto img = module_image(crc64, "a.ko.xz");
	REQUIRE(img);
	CHECK(*img == m);
}

TEST_CASE("kmod: module image errors")
{
	Bytes m = fake_module();
	Bytes text(100, 'x');
	CHECK(image_error(text, "a.ko") == "a.ko: not an ELF object, so not a kernel module");
	auto gz = compress(m, Compression::gzip);
	auto xz = compress(m, Compression::xz);
	auto zst = compress(m, Compression::zstd);
	REQUIRE(gz);
	REQUIRE(xz);
	REQUIRE(zst);
	CHECK(image_error(*gz, "a.ko.xz") == "a.ko.xz: not xz data");
	CHECK(image_error(*xz, "a.ko.gz") == "a.ko.gz: not gzip data");
	CHECK(image_error(*gz, "a.ko.zst") == "a.ko.zst: not zstd data");

	Bytes trailing = *xz;
	trailing.push_back(0);
	CHECK(image_error(trailing, "a.ko.xz") ==
	      "a.ko.xz: 1 bytes of trailing data after the compressed module");
	Bytes gz_trailing = *gz;
	gz_trailing.insert(gz_trailing.end(), { 'a', 'b' });
	CHECK(image_error(gz_trailing, "a.ko.gz") ==
	      "a.ko.gz: 2 bytes of trailing data after the compressed module");

	Bytes truncated(xz->begin(), xz->begin() + static_cast<long>(xz->size() / 2));
	CHECK(image_error(truncated, "a.ko.xz") == "a.ko.xz: xz: truncated stream");
	Bytes corrupt = *xz;
	corrupt[corrupt.size() / 2] ^= 0xff;
	CHECK(image_error(corrupt, "a.ko.xz").starts_with("a.ko.xz: xz: "));
	Bytes gz_truncated(gz->begin(), gz->begin() + static_cast<long>(gz->size() / 2));
	CHECK(image_error(gz_truncated, "a.ko.gz") == "a.ko.gz: gzip: truncated stream");

	auto not_elf = compress(text, Compression::zstd);
	REQUIRE(not_elf);
	CHECK(image_error(*not_elf, "b.ko.zst") ==
	      "b.ko.zst: not an ELF object, so not a kernel module");
	Bytes bad_class = m;
	bad_class[EI_CLASS] = 7;
	CHECK(image_error(bad_class, "a.ko") == "a.ko: unknown ELF class");
}
