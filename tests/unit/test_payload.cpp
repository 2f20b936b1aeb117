#include "imainit/digsig.h"
#include "imainit/fd.h"
#include "imainit/io.h"
#include "imainit/keys.h"
#include "imainit/payload.h"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace imainit;
using K = PayloadEntry::Kind;

namespace
{

const std::string keys = std::string(IMAINIT_SOURCE_DIR) + "/keys/debug/";

PayloadEntry pdir(std::string path, mode_t perm = 0755)
{
	PayloadEntry e;
	e.path = std::move(path);
	e.kind = K::dir;
	e.perm = perm;
	return e;
}

PayloadEntry pfile(std::string path, std::string_view data, mode_t perm = 0644)
{
	PayloadEntry e;
	e.path = std::move(path);
	e.kind = K::file;
	e.perm = perm;
	auto b = as_bytes(data);
	e.data.assign(b.begin(), b.end());
	return e;
}

PayloadEntry plink(std::string path, std::string target)
{
	PayloadEntry e;
	e.path = std::move(path);
	e.kind = K::symlink;
	e.perm = 0777;
	e.target = std::move(target);
	return e;
}

Bytes bytes(std::string_view s)
{
	auto b = as_bytes(s);
	return Bytes(b.begin(), b.end());
}

std::string str(std::span<const uint8_t> b)
{
	return std::string(b.begin(), b.end());
}

// A security.ima-like value with a NUL and a newline in it: pax records
// are length-prefixed, so binary values must survive.
const Bytes ima_value = { 0x03, 0x02, 0x04, 0x00, 0x0a, 0xff, 0x00, 0x01 };

std::vector<PayloadEntry> sample()
{
	auto conf = pfile("etc/ima-init.conf", "policy = etc/ima/ima-policy\n");
	conf.xattrs = { { "security.ima", ima_value } };
	auto pol =
	    pfile("etc/ima/ima-policy", "appraise func=MODULE_CHECK appraise_type=imasig\n", 0600);
	pol.xattrs = { { "security.evm", Bytes{ 0x05, 0x02, 'e', 'v', 'm' } },
		       { "security.ima", ima_value } };
	pol.uid = 1000;
	pol.gid = 3000000; // beyond ustar's 7 octal digits: a pax record
	return { pdir("etc"),
		 pdir("etc/ima", 0555),
		 conf,
		 pol,
		 plink("etc/policy", "ima/ima-policy"),
		 pdir("lib"),
		 pfile("lib/empty", "") };
}

bool contains(std::span<const uint8_t> hay, std::string_view needle)
{
	return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// Hand-made archives: what a hostile or foreign packer could produce.
class RawTar
{
      public:
	// One ustar header. size is the header's claim; data() adds content.
	RawTar &header(std::string_view name, char type, uint64_t size = 0, unsigned mode = 0644,
		       std::string_view linkname = "", unsigned uid = 0)
	{
		uint8_t h[512] = {};
		std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
		octal(h + 100, 8, mode);
		octal(h + 108, 8, uid);
		octal(h + 116, 8, 0);
		octal(h + 124, 12, size);
		octal(h + 136, 12, 1700000000);
		h[156] = static_cast<uint8_t>(type);
		std::memcpy(h + 157, linkname.data(), std::min<size_t>(linkname.size(), 100));
		std::memcpy(h + 257, "ustar", 6);
		std::memcpy(h + 263, "00", 2);
		std::memset(h + 148, ' ', 8);
		unsigned sum = 0;
		for (auto c : h)
			sum += c;
		std::snprintf(reinterpret_cast<char *>(h + 148), 8, "%06o", sum);
		h[155] = ' ';
		b.insert(b.end(), h, h + 512);
		return *this;
	}
	RawTar &data(std::string_view d)
	{
		b.insert(b.end(), d.begin(), d.end());
		b.resize((b.size() + 511) / 512 * 512, 0);
		return *this;
	}
	RawTar &file(std::string_view name, std::string_view d, unsigned mode = 0644)
	{
		return header(name, '0', d.size(), mode).data(d);
	}
	RawTar &dir(std::string_view name, unsigned mode = 0755)
	{
		return header(name, '5', 0, mode);
	}
	// A pax extended header ('x') applying to the next entry.
	RawTar &pax(std::vector<std::pair<std::string, std::string>> records)
	{
		std::string text;
		for (auto &[k, v] : records) {
			std::string body = " " + k + "=" + v + "\n";
			size_t len = body.size() + 1;
			while (std::to_string(len).size() + body.size() != len)
				len++;
			text += std::to_string(len) + body;
		}
		return header("PaxHeader/x", 'x', text.size()).data(text);
	}
	RawTar &end()
	{
		b.resize(b.size() + 1024, 0);
		return *this;
	}
	Bytes b;

      private:
	static void octal(uint8_t *p, size_t width, uint64_t v)
	{
		std::snprintf(reinterpret_cast<char *>(p), width, "%0*llo",
			      static_cast<int>(width - 1), static_cast<unsigned long long>(v));
	}
};

std::string read_error(std::span<const uint8_t> tar, const ExtractLimits &limits = {})
{
	auto r = read_payload_tar(tar, limits);
	if (r)
		return "(accepted)";
	return r.error().what();
}

// A scratch directory, removed with everything in it.
struct TempDir {
	std::string path;
	TempDir()
	{
		char tmpl[] = "/tmp/imainit-payload-XXXXXX";
		REQUIRE(::mkdtemp(tmpl));
		path = tmpl;
	}
	~TempDir()
	{
		std::system(("chmod -R u+rwx '" + path + "' && rm -rf '" + path + "'").c_str());
	}
	UniqueFd fd() const { return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY)); }
	size_t count() const
	{
		size_t n = 0;
		DIR *d = ::opendir(path.c_str());
		while (auto *e = ::readdir(d))
			n += std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..");
		::closedir(d);
		return n;
	}
};

bool user_xattrs_supported(const std::string &dir)
{
	std::string f = dir + "/.probe";
	UniqueFd fd(::open(f.c_str(), O_CREAT | O_WRONLY, 0600));
	bool ok = ::fsetxattr(fd.get(), "user.probe", "1", 1, 0) == 0;
	::unlink(f.c_str());
	return ok;
}

} // namespace

TEST_CASE("payload writer: deterministic, sorted, SCHILY xattrs only")
{
	auto a = write_payload_tar(sample(), 1700000000);
	REQUIRE(a);
	auto shuffled = sample();
	std::reverse(shuffled.begin(), shuffled.end());
	std::reverse(shuffled[3].xattrs.begin(), shuffled[3].xattrs.end());
	auto b = write_payload_tar(shuffled, 1700000000);
	REQUIRE(b);
	CHECK(*a == *b);
	CHECK(a->size() % 512 == 0);

	CHECK(contains(*a, "SCHILY.xattr.security.ima="));
	CHECK(contains(*a, "SCHILY.xattr.security.evm="));
	CHECK_FALSE(contains(*a, "LIBARCHIVE.xattr"));
	CHECK_FALSE(contains(*a, "atime"));
	CHECK_FALSE(contains(*a, "ctime"));
	CHECK_FALSE(contains(*a, "uname"));
	CHECK_FALSE(contains(*a, "gname"));
	// libarchive names extended headers "<dir>/PaxHeader/<name>", without
	// the pid SUSv3 suggests (two writes in one process would not notice).
	CHECK(contains(*a, "etc/ima/PaxHeader/ima-policy"));
	auto pid = std::to_string(::getpid());
	CHECK_FALSE(contains(*a, "PaxHeaders." + pid));
	CHECK_FALSE(contains(*a, "PaxHeader." + pid));

	auto c = write_payload_tar(sample(), 1700000001);
	REQUIRE(c);
	CHECK(*a != *c);

	// Every header as libarchive sees it: sorted, the given mtime, no
	// names, no atime/ctime.
	archive *ar = archive_read_new();
	archive_read_support_format_tar(ar);
	REQUIRE(archive_read_open_memory(ar, a->data(), a->size()) == ARCHIVE_OK);
	archive_entry *ae;
	std::vector<std::string> paths;
	while (archive_read_next_header(ar, &ae) == ARCHIVE_OK) {
		paths.push_back(archive_entry_pathname(ae));
		CHECK(archive_entry_mtime(ae) == 1700000000);
		CHECK(archive_entry_mtime_nsec(ae) == 0);
		CHECK_FALSE(archive_entry_atime_is_set(ae));
		CHECK_FALSE(archive_entry_ctime_is_set(ae));
		const char *uname = archive_entry_uname(ae), *gname = archive_entry_gname(ae);
		CHECK((uname == nullptr || *uname == 0));
		CHECK((gname == nullptr || *gname == 0));
	}
	archive_read_free(ar);
	CHECK(paths == std::vector<std::string>{ "etc/", "etc/ima/", "etc/ima-init.conf",
						 "etc/ima/ima-policy", "etc/policy", "lib/",
						 "lib/empty" });
}

TEST_CASE("payload writer: GNU tar reads the xattrs")
{
	auto tar = write_payload_tar(sample(), 1700000000);
	REQUIRE(tar);
	TempDir t;
	std::string path = t.path + "/payload.tar";
	REQUIRE(write_file_atomic(path, *tar));
	std::string cmd = "tar --xattrs --xattrs-include='*' -tvvf '" + path + "' 2>&1";
	FILE *p = ::popen(cmd.c_str(), "r");
	REQUIRE(p);
	std::string out;
	char buf[4096];
	size_t n;
	while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
		out.append(buf, n);
	CHECK(::pclose(p) == 0);
	CHECK(out.find("x: 8 security.ima") != std::string::npos);
	CHECK(out.find("x: 5 security.evm") != std::string::npos);
	CHECK(out.find("1000/3000000") != std::string::npos);
	CHECK(out.find("etc/policy -> ima/ima-policy") != std::string::npos);
}

TEST_CASE("payload writer: rejects what the reader would")
{
	auto err = [](std::vector<PayloadEntry> v) {
		auto r = write_payload_tar(std::move(v), 0);
		return r ? std::string("(accepted)") : r.error().what();
	};
	for (auto p : { "./x", "/x", "a//b", "a/", "a/../b", "", ".", "..", "a/." })
		CHECK(err({ pfile(p, "") }).find("path is not normalised") != std::string::npos);
	CHECK(err({ pfile("x", ""), pfile("x", "") }) == "entry x: duplicate path");
	CHECK(err({ pfile("a/b", "") }) ==
	      "entry a/b: parent directory a is not in the archive before it");
	CHECK(err({ plink("a", "d"), pdir("d"), pfile("a/b", "") }) ==
	      "entry a/b: parent a is a symlink");
	CHECK(err({ pfile("a", ""), pfile("a/b", "") }) ==
	      "entry a/b: parent a is not a directory");
	auto bad_mode = pfile("x", "");
	bad_mode.perm = 0100644;
	CHECK(err({ bad_mode }) == "entry x: mode 0100644 has bits beyond 07777");
	auto dir_data = pdir("d");
	dir_data.data = bytes("x");
	CHECK(err({ dir_data }) == "entry d: a directory has no data");
	CHECK(err({ plink("l", "") }) == "entry l: empty symlink target");
	auto file_target = pfile("f", "");
	file_target.target = "x";
	CHECK(err({ file_target }) == "entry f: only a symlink has a target");
	auto link_xattr = plink("l", "x");
	link_xattr.xattrs = { { "security.ima", ima_value } };
	CHECK(err({ link_xattr }) == "entry l: xattrs on symlinks are not supported");
	auto dup_xattr = pfile("f", "");
	dup_xattr.xattrs = { { "security.ima", ima_value }, { "security.ima", ima_value } };
	CHECK(err({ dup_xattr }) == "entry f: duplicate xattr security.ima");
	auto bad_xattr = pfile("f", "");
	bad_xattr.xattrs = { { "user.a=b", ima_value } };
	CHECK(err({ bad_xattr }) == "entry f: bad xattr name 'user.a=b'");
	auto bad_uid = pfile("f", "");
	bad_uid.uid = static_cast<uid_t>(-1);
	CHECK(err({ bad_uid }) == "entry f: uid/gid -1 cannot be restored");
}

TEST_CASE("payload round trip: data, modes, owners, xattrs, symlinks, long and odd names")
{
	auto entries = sample();
	std::string long_dir(120, 'd');
	entries.push_back(pdir(long_dir));
	entries.push_back(pfile(long_dir + "/" + std::string(150, 'f'), std::string(70000, 'z')));
	entries.push_back(pfile("caf\xc3\xa9 \xff", "odd name"));
	ExtractLimits limits;
	limits.allow_setid = true;
	entries.push_back(pfile("lib/su", "x", 04755));
	auto tar = write_payload_tar(entries, 1700000000);
	REQUIRE(tar);
	auto back = read_payload_tar(*tar, limits);
	REQUIRE_MESSAGE(back, back.error().what());
	std::sort(entries.begin(), entries.end(), [](auto &a, auto &b) { return a.path < b.path; });
	REQUIRE(back->size() == entries.size());
	for (size_t i = 0; i < entries.size(); i++) {
		auto &w = entries[i];
		auto &r = (*back)[i];
		CAPTURE(w.path);
		CHECK(r.path == w.path);
		CHECK(r.kind == w.kind);
		if (w.kind != K::symlink)
			CHECK(r.perm == w.perm);
		CHECK(r.uid == w.uid);
		CHECK(r.gid == w.gid);
		CHECK(r.data == w.data);
		CHECK(r.target == w.target);
		auto wx = w.xattrs;
		std::sort(wx.begin(), wx.end());
		auto rx = r.xattrs;
		std::sort(rx.begin(), rx.end());
		CHECK(rx == wx);
	}
	CHECK((*back)[0].meta().mode == (S_IFREG | 0644));
}

TEST_CASE("payload entry meta(): full st_mode as EVM hashes it")
{
	auto d = pdir("d", 0555);
	d.uid = 7;
	CHECK(d.meta().mode == (S_IFDIR | 0555));
	CHECK(d.meta().uid == 7);
	CHECK(plink("l", "x").meta().mode == (S_IFLNK | 0777));
	CHECK(pfile("f", "", 04711).meta().mode == (S_IFREG | 04711));
}

TEST_CASE("payload reader: foreign spellings are normalised")
{
	RawTar t;
	t.dir("./etc/").file("./etc//conf", "x").end();
	auto r = read_payload_tar(t.b);
	REQUIRE_MESSAGE(r, r.error().what());
	REQUIRE(r->size() == 2);
	CHECK((*r)[0].path == "etc");
	CHECK((*r)[1].path == "etc/conf");
	CHECK(str((*r)[1].data) == "x");

	RawTar dup;
	dup.dir("etc").dir("./etc/").end();
	CHECK(read_error(dup.b) == "entry etc: duplicate path");

	RawTar root;
	root.dir("./").end();
	CHECK(read_error(root.b) == "entry ./: path names the archive root");
}

TEST_CASE("payload reader: paths that leave the root")
{
	RawTar abs;
	abs.file("/etc/passwd", "x").end();
	CHECK(read_error(abs.b) == "entry /etc/passwd: absolute path");
	RawTar up;
	up.file("../x", "x").end();
	CHECK(read_error(up.b) == "entry ../x: path has a '..' component");
	RawTar mid;
	mid.dir("a").file("a/../../x", "x").end();
	CHECK(read_error(mid.b) == "entry a/../../x: path has a '..' component");
	RawTar inner;
	inner.dir("a").file("a/../b", "x").end();
	CHECK(read_error(inner.b) == "entry a/../b: path has a '..' component");
}

TEST_CASE("payload reader: symlinks must resolve inside the root")
{
	auto check = [](std::vector<PayloadEntry> v) {
		auto tar = write_payload_tar(std::move(v), 0);
		REQUIRE(tar);
		return read_error(*tar);
	};
	CHECK(check({ plink("l", "../x") }) ==
	      "entry l: symlink target ../x resolves outside the root");
	CHECK(check({ pdir("d"), plink("d/l", "../../x") }) ==
	      "entry d/l: symlink target ../../x resolves outside the root");
	CHECK(check({ plink("l", "/etc/passwd") }) ==
	      "entry l: symlink target /etc/passwd resolves outside the root");
	// Lexically "s/.." is the root; through s -> . it is the root's parent.
	CHECK(check({ plink("s", "."), plink("l", "s/..") }) ==
	      "entry l: symlink target s/.. resolves outside the root");
	// "a" is checked before "z": the escape is found through the hop.
	CHECK(check({ plink("a", "z/x"), plink("z", "/") }) ==
	      "entry a: symlink target z/x resolves outside the root");
	CHECK(check({ pdir("d"), plink("d/up", ".."), plink("l", "d/up/..") }) ==
	      "entry l: symlink target d/up/.. resolves outside the root");
	CHECK(check({ plink("a", "b"), plink("b", "a"), plink("l", "a/x") }) ==
	      "entry a: symlink target b: too many levels of symlinks");
	// Inside: fine, also through other links and to missing names.
	CHECK(check({ pdir("d"), pdir("d/e"), plink("d/e/l", "../../x"), plink("d/s", "e"),
		      plink("d/m", "s/../e/l"), plink("top", "d/s/.."), plink("dot", ".") }) ==
	      "(accepted)");
}

TEST_CASE("payload reader: entry types")
{
	RawTar hard;
	hard.file("a", "x").header("b", '1', 0, 0644, "a").end();
	CHECK(read_error(hard.b) == "entry b: hard links are not supported (link to a)");
	RawTar chr;
	chr.header("console", '3', 0, 0600).end();
	CHECK(read_error(chr.b) == "entry console: device nodes are not allowed");
	RawTar blk;
	blk.header("sda", '4', 0, 0600).end();
	CHECK(read_error(blk.b) == "entry sda: device nodes are not allowed");
	RawTar fifo;
	fifo.header("fifo", '6').end();
	CHECK(read_error(fifo.b) == "entry fifo: FIFOs are not allowed");
	RawTar empty_link;
	empty_link.header("l", '2', 0, 0777, "").end();
	CHECK(read_error(empty_link.b) == "entry l: empty symlink target");
	RawTar dir_data;
	dir_data.pax({ { "size", "512" } }).dir("d").data(std::string(512, 'a')).end();
	CHECK(read_error(dir_data.b) == "entry d: a directory with data");
	// ustar symlinks have no data: libarchive reads the block as the next
	// header.
	RawTar link_data;
	link_data.header("l", '2', 3, 0777, "x").data("abc").end();
	CHECK(read_error(link_data.b) ==
	      "malformed tar header at offset 512 (after entry l): Damaged tar archive");
	RawTar no_name;
	no_name.file("", "x").end();
	CHECK(read_error(no_name.b) == "entry at offset 0: empty path");
}

TEST_CASE("payload reader: setuid, setgid and sticky bits")
{
	RawTar suid;
	suid.file("su", "x", 04755).end();
	CHECK(read_error(suid.b) ==
	      "entry su: setuid/setgid/sticky bits (mode 04755) are not allowed");
	RawTar sgid;
	sgid.dir("d", 02755).end();
	CHECK(read_error(sgid.b) ==
	      "entry d: setuid/setgid/sticky bits (mode 02755) are not allowed");
	RawTar sticky;
	sticky.dir("tmp", 01777).end();
	CHECK(read_error(sticky.b) ==
	      "entry tmp: setuid/setgid/sticky bits (mode 01777) are not allowed");
	ExtractLimits allow;
	allow.allow_setid = true;
	auto r = read_payload_tar(suid.b, allow);
	REQUIRE(r);
	CHECK((*r)[0].perm == 04755);
}

TEST_CASE("payload reader: no writing through symlinks or files")
{
	RawTar through_link;
	through_link.dir("d").header("l", '2', 0, 0777, "d").file("l/x", "x").end();
	CHECK(read_error(through_link.b) == "entry l/x: parent l is a symlink");
	RawTar through_file;
	through_file.file("f", "x").file("f/x", "x").end();
	CHECK(read_error(through_file.b) == "entry f/x: parent f is not a directory");
	RawTar orphan;
	orphan.file("a/b", "x").end();
	CHECK(read_error(orphan.b) ==
	      "entry a/b: parent directory a is not in the archive before it");
	RawTar late_parent;
	late_parent.file("a/b", "x").dir("a").end();
	CHECK(read_error(late_parent.b) ==
	      "entry a/b: parent directory a is not in the archive before it");
}

TEST_CASE("payload reader: limits")
{
	auto tar = write_payload_tar(sample(), 0);
	REQUIRE(tar);
	ExtractLimits few;
	few.max_entries = 3;
	CHECK(read_error(*tar, few) ==
	      "entry etc/ima/ima-policy: more than 3 entries in the archive");

	ExtractLimits small;
	small.max_entry_size = 40;
	CHECK(read_error(*tar, small) ==
	      "entry etc/ima/ima-policy: size 48 exceeds the limit of 40 bytes");

	ExtractLimits total;
	total.max_total_size = 60;
	CHECK(read_error(*tar, total) ==
	      "entry etc/ima/ima-policy: archive content exceeds the limit of 60 bytes");

	ExtractLimits xsize;
	xsize.max_xattr_size = 7;
	CHECK(read_error(*tar, xsize) ==
	      "entry etc/ima-init.conf: xattr security.ima value is 8 bytes (limit 7)");

	// A size claim far beyond the archive is refused before anything is
	// allocated.
	RawTar huge;
	huge.header("big", '0', 1ull << 32).data("x").end();
	CHECK(read_error(huge.b) ==
	      "entry big: size 4294967296 exceeds the limit of 268435456 bytes");
	RawTar claim;
	claim.header("big", '0', 100000).data("x").end();
	CHECK(read_error(claim.b) == "entry big: size 100000 is larger than the archive");
}

TEST_CASE("payload reader: xattrs")
{
	auto f = pfile("f", "x");
	f.xattrs = { { "user.foo", bytes("1") } };
	auto tar = write_payload_tar({ pdir("etc"), f }, 0);
	REQUIRE(tar);
	CHECK(read_error(*tar) == "entry f: xattr user.foo is not allowed");
	ExtractLimits allow;
	allow.xattr_allow.push_back("user.foo");
	CHECK(read_error(*tar, allow) == "(accepted)");
	ExtractLimits prefix;
	prefix.xattr_allow = { "user.*" };
	CHECK(read_error(*tar, prefix) == "(accepted)");
	ExtractLimits other_prefix;
	other_prefix.xattr_allow = { "user.bar*" };
	CHECK(read_error(*tar, other_prefix) == "entry f: xattr user.foo is not allowed");
	ExtractLimits any;
	any.xattr_allow = { "*" };
	CHECK(read_error(*tar, any) == "(accepted)");

	// SCHILY and LIBARCHIVE records for one name: libarchive reports both.
	RawTar both;
	both.pax({ { "SCHILY.xattr.security.ima", "abc" },
		   { "LIBARCHIVE.xattr.security.ima", "YWJj" } })
	    .file("f", "x")
	    .end();
	CHECK(read_error(both.b) == "entry f: duplicate xattr security.ima");

	RawTar on_link;
	on_link.pax({ { "SCHILY.xattr.security.ima", "abc" } })
	    .header("l", '2', 0, 0777, "x")
	    .end();
	CHECK(read_error(on_link.b) == "entry l: xattrs on symlinks are not supported");
}

TEST_CASE("payload reader: what the extractor cannot restore")
{
	RawTar acl;
	acl.pax({ { "SCHILY.acl.access", "user::rw-,user:1:r--,group::r--,mask::r--,other::r--" } })
	    .file("f", "x")
	    .end();
	CHECK(read_error(acl.b) == "entry f: ACLs are not supported");
	RawTar flags;
	flags.pax({ { "SCHILY.fflags", "nodump" } }).file("f", "x").end();
	CHECK(read_error(flags.b) == "entry f: file flags are not supported");
	RawTar sparse;
	sparse
	    .pax({ { "GNU.sparse.size", "2048" },
		   { "GNU.sparse.numblocks", "1" },
		   { "GNU.sparse.offset", "1024" },
		   { "GNU.sparse.numbytes", "1" } })
	    .file("f", "x")
	    .end();
	CHECK(read_error(sparse.b) == "entry f: sparse files are not supported");
	RawTar uid;
	uid.pax({ { "uid", "4294967295" } }).file("f", "x").end();
	CHECK(read_error(uid.b) == "entry f: uid/gid 4294967295/0 out of range");
	RawTar bad_record;
	bad_record.header("PaxHeader/x", 'x', 10).data("9 a=bcdef\n").file("f", "x").end();
	CHECK(read_error(bad_record.b) == "entry f: Ignoring malformed pax extended attribute");
}

TEST_CASE("payload reader: malformed, truncated and trailing data")
{
	auto good = write_payload_tar(sample(), 0);
	REQUIRE(good);
	REQUIRE(read_error(*good) == "(accepted)");

	// Padding to a record size is fine when it is all zeros.
	Bytes padded = *good;
	padded.resize(padded.size() + 9216, 0);
	CHECK(read_error(padded) == "(accepted)");

	Bytes garbage = *good;
	garbage.push_back('x');
	CHECK(read_error(garbage) == "garbage at offset " + std::to_string(good->size()) +
					 " after the end of the archive (last entry lib/empty)");
	Bytes late_garbage = padded;
	late_garbage[good->size() + 5000] = 1;
	CHECK(read_error(late_garbage) ==
	      "garbage at offset " + std::to_string(good->size() + 5000) +
		  " after the end of the archive (last entry lib/empty)");

	// The second end block non-zero: libarchive stops after the first.
	Bytes second = *good;
	second[second.size() - 100] = 7;
	CHECK(read_error(second) == "garbage at offset " + std::to_string(second.size() - 100) +
					" after the end of the archive (last entry lib/empty)");

	Bytes one_block(good->begin(), good->end() - 512);
	CHECK(read_error(one_block) ==
	      "missing end-of-archive marker (two zero blocks) after entry lib/empty");
	Bytes no_end(good->begin(), good->end() - 1024);
	CHECK(read_error(no_end) ==
	      "missing end-of-archive marker (two zero blocks) after entry lib/empty");
	Bytes short_end(good->begin(), good->end() - 300);
	CHECK(read_error(short_end) ==
	      "missing end-of-archive marker (two zero blocks) after entry lib/empty");

	// Cut in the middle of a header or of data.
	RawTar two;
	two.file("a", std::string(600, 'a')).file("b", "b").end();
	Bytes mid_header(two.b.begin(), two.b.begin() + 1536 + 100);
	CHECK(read_error(mid_header) ==
	      "malformed tar header at offset 1536 (after entry a): Truncated tar archive");
	Bytes mid_data(two.b.begin(), two.b.begin() + 700);
	CHECK(read_error(mid_data) == "entry a: Truncated tar archive");

	RawTar bad_sum;
	bad_sum.file("a", "x").file("b", "y").end();
	bad_sum.b[1024 + 148] ^= 1;
	CHECK(read_error(bad_sum.b) ==
	      "malformed tar header at offset 1024 (after entry a): Damaged tar archive");

	CHECK(read_error(Bytes{}).starts_with("not a tar archive: "));
	Bytes text = bytes("this is not a tar archive at all");
	text.resize(2048, ' ');
	CHECK(read_error(text).starts_with("not a tar archive: "));

	// The payload is never compressed.
	TempDir t;
	std::string path = t.path + "/p.tar";
	REQUIRE(write_file_atomic(path, *good));
	REQUIRE(std::system(("gzip -n '" + path + "'").c_str()) == 0);
	auto gz = read_file(path + ".gz");
	REQUIRE(gz);
	CHECK(read_error(*gz).starts_with("not a tar archive: "));

	// An empty archive is well-formed; deciding that it is useless is the
	// caller's business.
	Bytes zeros(1024, 0);
	auto none = read_payload_tar(zeros);
	REQUIRE(none);
	CHECK(none->empty());
}

TEST_CASE("extract_payload: tree, modes, owners, symlinks and xattrs")
{
	TempDir t;
	bool xattrs = user_xattrs_supported(t.path);
	auto entries = sample();
	for (auto &e : entries)
		e.xattrs.clear();
	entries.push_back(pdir("ro", 0555));
	entries.push_back(pdir("ro/inner", 0500));
	entries.push_back(pfile("ro/inner/f", "deep", 0400));
	auto x = pfile("x", "with xattr");
	if (xattrs)
		x.xattrs = { { "user.a", bytes("1") }, { "user.b", ima_value } };
	entries.push_back(x);
	auto tar = write_payload_tar(entries, 0);
	REQUIRE(tar);
	ExtractLimits limits;
	limits.xattr_allow.push_back("user.*");
	auto fd = t.fd();
	auto r = extract_payload(*tar, fd.get(), limits);
	REQUIRE_MESSAGE(r, r.error().what());

	auto content = read_file(t.path + "/etc/ima/ima-policy");
	REQUIRE(content);
	CHECK(str(*content) == "appraise func=MODULE_CHECK appraise_type=imasig\n");
	struct stat st;
	REQUIRE(::lstat((t.path + "/etc/ima/ima-policy").c_str(), &st) == 0);
	CHECK((st.st_mode & 07777) == 0600);
	if (::geteuid() == 0) {
		CHECK(st.st_uid == 1000);
		CHECK(st.st_gid == 3000000);
	}
	REQUIRE(::lstat((t.path + "/etc/ima").c_str(), &st) == 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK((st.st_mode & 07777) == 0555);
	REQUIRE(::lstat((t.path + "/ro/inner").c_str(), &st) == 0);
	CHECK((st.st_mode & 07777) == 0500);
	REQUIRE(::lstat((t.path + "/ro/inner/f").c_str(), &st) == 0);
	CHECK((st.st_mode & 07777) == 0400);
	CHECK(st.st_size == 4);
	REQUIRE(::lstat((t.path + "/lib/empty").c_str(), &st) == 0);
	CHECK(st.st_size == 0);
	char target[64] = {};
	REQUIRE(::readlink((t.path + "/etc/policy").c_str(), target, sizeof(target) - 1) > 0);
	CHECK(std::string(target) == "ima/ima-policy");
	if (xattrs) {
		uint8_t v[64];
		ssize_t n = ::getxattr((t.path + "/x").c_str(), "user.b", v, sizeof(v));
		REQUIRE(n == static_cast<ssize_t>(ima_value.size()));
		CHECK(Bytes(v, v + n) == ima_value);
	}

	// The target must be empty: a second extraction is refused.
	auto again = extract_payload(*tar, fd.get(), limits);
	REQUIRE_FALSE(again);
	CHECK(again.error().what().starts_with("target directory is not empty (it holds "));
}

TEST_CASE("extract_payload: a rejected archive writes nothing")
{
	TempDir t;
	RawTar hostile;
	hostile.dir("etc")
	    .file("etc/a", "a")
	    .file("etc/b", "b")
	    .header("etc/l", '2', 0, 0777, "../../x")
	    .end();
	auto fd = t.fd();
	auto r = extract_payload(hostile.b, fd.get());
	REQUIRE_FALSE(r);
	CHECK(r.error().what() == "entry etc/l: symlink target ../../x resolves outside the root");
	CHECK(t.count() == 0);
}

TEST_CASE("extract_payload: failures while creating name the entry")
{
	std::string long_name(300, 'n');
	auto cases = std::vector<std::pair<PayloadEntry, std::string>>{
		{ pfile(long_name, "x"),
		  "entry " + long_name + ": cannot create file: File name too long" },
		{ pdir(long_name),
		  "entry " + long_name + ": cannot create directory: File name too long" },
		{ plink(long_name, "x"),
		  "entry " + long_name + ": cannot create symlink: File name too long" },
	};
	for (auto &[e, msg] : cases) {
		TempDir t;
		auto tar = write_payload_tar({ e }, 0);
		REQUIRE(tar);
		auto fd = t.fd();
		auto r = extract_payload(*tar, fd.get());
		REQUIRE_FALSE(r);
		CHECK(r.error().what() == msg);
	}

	// A name the reader was told to allow but the kernel does not know.
	TempDir t;
	auto f = pfile("f", "x");
	f.xattrs = { { "bogus.name", bytes("1") } };
	auto tar = write_payload_tar({ f }, 0);
	REQUIRE(tar);
	ExtractLimits limits;
	limits.xattr_allow = { "bogus.name" };
	auto fd = t.fd();
	auto r = extract_payload(*tar, fd.get(), limits);
	REQUIRE_FALSE(r);
	CHECK(r.error().what() == "entry f: cannot set xattr bogus.name: Operation not supported");
}

TEST_CASE("payload signature: digsig v2 over SHA-256, as evmctl ima_sign --sigfile writes")
{
	auto key = load_private_key(keys + "privkey_payload.pem");
	REQUIRE_MESSAGE(key, key.error().what());
	auto cert = load_public_key(keys + "x509_payload.der");
	REQUIRE_MESSAGE(cert, cert.error().what());
	key->set_keyid(cert->keyid());
	auto other = load_public_key(keys + "x509_ima.der");
	REQUIRE(other);

	auto tar = write_payload_tar(sample(), 1700000000);
	REQUIRE(tar);
	auto sig = sign_payload(*key, *tar);
	REQUIRE_MESSAGE(sig, sig.error().what());
	auto parsed = parse_signature_v2(*sig);
	REQUIRE(parsed);
	CHECK(parsed->type == SigType::ima_digsig);
	CHECK(parsed->algo == HashAlgo::sha256);
	CHECK(parsed->keyid == cert->keyid());

	CHECK(verify_payload(*tar, *sig, *cert));

	Bytes tampered = *tar;
	tampered[600] ^= 1;
	auto bad = verify_payload(tampered, *sig, *cert);
	REQUIRE_FALSE(bad);
	CHECK(bad.error().what().starts_with("payload signature: "));

	auto wrong = verify_payload(*tar, *sig, *other);
	REQUIRE_FALSE(wrong);
	CHECK(wrong.error().what().starts_with("payload signature: "));

	auto garbage = verify_payload(*tar, bytes("not a signature"), *cert);
	REQUIRE_FALSE(garbage);
	CHECK(garbage.error().what().starts_with("payload signature: "));

	auto sha512 = ima_sign_buffer(*key, HashAlgo::sha512, *tar);
	REQUIRE(sha512);
	auto weak = verify_payload(*tar, *sha512, *cert);
	REQUIRE_FALSE(weak);
	CHECK(weak.error().what() == "payload signature: made with sha512, expected sha256");

	auto digest = digest_buffer(HashAlgo::sha256, *tar);
	REQUIRE(digest);
	auto portable = sign_digest(*key, HashAlgo::sha256, *digest, SigType::evm_portable);
	REQUIRE(portable);
	auto type = verify_payload(*tar, *portable, *cert);
	REQUIRE_FALSE(type);
	CHECK(type.error().what() ==
	      "payload signature: type 5 is not an IMA digital signature (3)");

	// evmctl ima_verify --sigfile reads FILE.sig: the same bytes must pass.
	TempDir t;
	std::string path = t.path + "/payload.tar";
	REQUIRE(write_file_atomic(path, *tar));
	REQUIRE(write_file_atomic(path + ".sig", *sig));
	std::string cmd = "evmctl ima_verify --sigfile --key '" + keys + "x509_payload.der' '" +
			  path + "' >/dev/null 2>&1";
	CHECK(std::system(cmd.c_str()) == 0);
	REQUIRE(write_file_atomic(path, tampered));
	CHECK(std::system(cmd.c_str()) != 0);

	// And the other way: evmctl's signature file verifies here.
	REQUIRE(write_file_atomic(path, *tar));
	::unlink((path + ".sig").c_str());
	std::string sign = "evmctl ima_sign --sigfile --hashalgo sha256 --key '" + keys +
			   "privkey_payload.pem' '" + path + "' >/dev/null 2>&1";
	REQUIRE(std::system(sign.c_str()) == 0);
	auto esig = read_file(path + ".sig");
	REQUIRE(esig);
	CHECK(verify_payload(*tar, *esig, *cert));
}
