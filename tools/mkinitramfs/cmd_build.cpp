// ima-mkinitramfs build: the initramfs the kernel unpacks. /init, the
// console node, and the signed payload (a pax tar whose files all carry
// security.ima and a portable security.evm), its detached signature and the
// trust anchor that checks it; as a cpio, or as a gen_init_cpio list for
// CONFIG_INITRAMFS_SOURCE.
#include "commands.h"
#include "options.h"

#include "imainit/config.h"
#include "imainit/cpio.h"
#include "imainit/digsig.h"
#include "imainit/evm.h"
#include "imainit/fd.h"
#include "imainit/kmod.h"
#include "imainit/layout.h"
#include "imainit/payload.h"
#include "imainit/policy.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <getopt.h>
#include <map>
#include <optional>
#include <stdio.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace imainit;

namespace mkinitramfs
{

namespace
{

constexpr const char *prog = "ima-mkinitramfs build";

void usage(FILE *out)
{
	std::fprintf(
	    out,
	    "usage: ima-mkinitramfs build [OPTIONS] -o OUTPUT\n"
	    "\n"
	    "Writes the initramfs of ima-init: /init, /dev/console and, in /ima-init/, the\n"
	    "signed payload (payload.tar), its signature (payload.sig) and the payload\n"
	    "trust anchor (trust.der). The payload holds etc/ima-init.conf, the policy and\n"
	    "the certificates; each of its files carries a security.ima signature and a\n"
	    "portable security.evm signature (uid 0, gid 0, its mode).\n"
	    "\n"
	    "contents:\n"
	    "      --init FILE          the static ima-init binary, installed as /init\n"
	    "      --no-init            payload only (no /init, no /dev/console): for an\n"
	    "                           initrd loaded next to a kernel that has /init built in\n"
	    "      --policy FILE        IMA policy (etc/ima/ima-policy); checked against the\n"
	    "                           kernel 6.1 grammar, refused when it has errors\n"
	    "      --ima-cert CERT      certificate for the .ima keyring (etc/keys/x509_ima.der)\n"
	    "      --evm-cert CERT      certificate for the .evm keyring (etc/keys/x509_evm.der)\n"
	    "      --ca CERT            CA the IMA and EVM certificates are checked against,\n"
	    "                           here and by /init (etc/keys/ca.der)\n"
	    "      --add SRC[:DEST]     add a file or a directory tree to the payload at DEST\n"
	    "                           (payload-relative; default: the name of SRC);\n"
	    "                           repeatable. Owner 0:0, modes as in SRC\n"
	    "      --module FILE|NAME   kernel module for /init to load with finit_module(), as\n"
	    "                           lib/modules/FILE.ko; repeatable, loaded in the order\n"
	    "                           given. FILE: a .ko, .ko.gz, .ko.xz or .ko.zst file\n"
	    "                           (give dependencies first yourself). NAME (no '/', no\n"
	    "                           .ko): a module of --kernel-modules DIR, with every\n"
	    "                           module it depends on (modules.dep), dependencies first.\n"
	    "                           Compressed modules are stored decompressed: the kernel\n"
	    "                           appraises the bytes it loads; an appended module\n"
	    "                           signature stays intact\n"
	    "      --optional-module FILE|NAME  the same, but a module that fails to load is\n"
	    "                           only logged (so are dependencies that only optional\n"
	    "                           modules need)\n"
	    "      --kernel-modules DIR the /lib/modules/VERSION tree that --module NAME is\n"
	    "                           looked up in; needs its modules.dep (depmod -b BASE\n"
	    "                           VERSION makes it for a tree at BASE/lib/modules/VERSION)\n"
	    "      --firmware SRC[:DEST]  firmware for those modules, as lib/firmware/DEST\n"
	    "                           (default: the name of SRC); repeatable\n"
	    "\n"
	    "signing:\n"
	    "  -k, --key KEY            key for security.ima of every payload file (PEM, RSA\n"
	    "                           or EC); must match --ima-cert when that is given\n"
	    "      --evm-key KEY        key for security.evm (default: --key); must match\n"
	    "                           --evm-cert when that is given\n"
	    "      --payload-key KEY    key that signs payload.tar (default: --key)\n"
	    "      --payload-cert CERT  trust anchor, written as /ima-init/trust.der; must\n"
	    "                           match --payload-key\n"
	    "      --no-trust-anchor    write no trust.der: /init has the anchor compiled in\n"
	    "                           (--payload-cert, if given, is still checked)\n"
	    "  -a, --hash-algo ALGO     sha256 (default), sha384 or sha512 for security.ima\n"
	    "                           and security.evm (payload.sig is always sha256)\n"
	    "      --pass-file FILE     passphrase of encrypted keys: first line of FILE\n"
	    "      --pass-env VAR       passphrase of encrypted keys: environment variable\n"
	    "      --allow-debug-keys   accept the published keys of keys/debug/ (tests only)\n"
	    "\n"
	    "what /init does (etc/ima-init.conf):\n"
	    "      --evm-mode N         value written to /sys/kernel/security/evm (decimal or\n"
	    "                           0x hex; 0: leave EVM alone). Default: 0x80000002\n"
	    "                           (signatures only, setup complete) with --evm-cert,\n"
	    "                           0 without\n"
	    "      --failure-action A   halt (default), reboot or panic\n"
	    "      --root-wait SEC      longest wait for the root device (default 30)\n"
	    "      --allow-untrusted-keyring  use _ima/_evm when the kernel has no trusted\n"
	    "                           .ima/.evm keyrings\n"
	    "      --no-lock-keyrings   leave the keyrings open after loading\n"
	    "      --require-signed-init  boot only a real init with a valid security.ima\n"
	    "\n"
	    "output:\n"
	    "  -o, --output OUTPUT      file to write (replaced atomically)\n"
	    "      --format FMT         cpio (default) or list: a gen_init_cpio list for\n"
	    "                           CONFIG_INITRAMFS_SOURCE, its files in OUTPUT.d/\n"
	    "      --compress C         none (default), gzip, xz or zstd (cpio only; with a\n"
	    "                           list the kernel build compresses)\n"
	    "  -h, --help               show this help\n"
	    "\n"
	    "Every entry gets the time SOURCE_DATE_EPOCH (default 0). Output is\n"
	    "byte-identical for identical inputs with RSA keys; ECDSA signatures are\n"
	    "randomised, so with EC keys the signatures (and so the bytes) differ from run\n"
	    "to run while verifying all the same.\n");
}

enum {
	opt_init = 256,
	opt_no_init,
	opt_policy,
	opt_ima_cert,
	opt_evm_cert,
	opt_ca,
	opt_add,
	opt_module,
	opt_optional_module,
	opt_firmware,
	opt_kernel_modules,
	opt_evm_key,
	opt_payload_key,
	opt_payload_cert,
	opt_no_trust_anchor,
	opt_pass_file,
	opt_pass_env,
	opt_allow_debug,
	opt_evm_mode,
	opt_failure_action,
	opt_root_wait,
	opt_allow_untrusted,
	opt_no_lock,
	opt_require_signed_init,
	opt_format,
	opt_compress,
};

const struct option long_options[] = {
	{ "init", required_argument, nullptr, opt_init },
	{ "no-init", no_argument, nullptr, opt_no_init },
	{ "policy", required_argument, nullptr, opt_policy },
	{ "ima-cert", required_argument, nullptr, opt_ima_cert },
	{ "evm-cert", required_argument, nullptr, opt_evm_cert },
	{ "ca", required_argument, nullptr, opt_ca },
	{ "add", required_argument, nullptr, opt_add },
	{ "module", required_argument, nullptr, opt_module },
	{ "optional-module", required_argument, nullptr, opt_optional_module },
	{ "firmware", required_argument, nullptr, opt_firmware },
	{ "kernel-modules", required_argument, nullptr, opt_kernel_modules },
	{ "key", required_argument, nullptr, 'k' },
	{ "evm-key", required_argument, nullptr, opt_evm_key },
	{ "payload-key", required_argument, nullptr, opt_payload_key },
	{ "payload-cert", required_argument, nullptr, opt_payload_cert },
	{ "no-trust-anchor", no_argument, nullptr, opt_no_trust_anchor },
	{ "hash-algo", required_argument, nullptr, 'a' },
	{ "pass-file", required_argument, nullptr, opt_pass_file },
	{ "pass-env", required_argument, nullptr, opt_pass_env },
	{ "allow-debug-keys", no_argument, nullptr, opt_allow_debug },
	{ "evm-mode", required_argument, nullptr, opt_evm_mode },
	{ "failure-action", required_argument, nullptr, opt_failure_action },
	{ "root-wait", required_argument, nullptr, opt_root_wait },
	{ "allow-untrusted-keyring", no_argument, nullptr, opt_allow_untrusted },
	{ "no-lock-keyrings", no_argument, nullptr, opt_no_lock },
	{ "require-signed-init", no_argument, nullptr, opt_require_signed_init },
	{ "format", required_argument, nullptr, opt_format },
	{ "compress", required_argument, nullptr, opt_compress },
	{ "output", required_argument, nullptr, 'o' },
	{ "help", no_argument, nullptr, 'h' },
	{ nullptr, 0, nullptr, 0 },
};

enum class Format { cpio, list };

// The EVM mode bits of security/integrity/evm/evm.h.
constexpr uint32_t evm_init_x509 = 0x2;
constexpr uint32_t evm_init_mask = 0x80000007;

struct Options {
	std::string init, policy, ima_cert, evm_cert, ca;
	std::string key, evm_key, payload_key, payload_cert;
	std::vector<std::string> adds;
	std::vector<ModuleSpec> modules; // path: the host file, or a module name
	std::string kernel_modules;	 // where module names are looked up
	std::vector<std::string> firmware;
	bool no_init = false, no_trust_anchor = false;
	KeyOptions keys;
	HashAlgo algo = HashAlgo::sha256;
	std::optional<uint32_t> evm_mode;
	InitConfig config; // the flags; certificate and policy paths are set later
	Format format = Format::cpio;
	std::optional<Compression> compression;
	std::string output;
};

// Directories, files and symlinks of the payload by path; implicit marks a
// parent directory made up for a deeper entry, which an explicit one may
// replace.
struct PayloadTree {
	std::map<std::string, PayloadEntry> entries;
	std::map<std::string, bool> implicit;
	std::map<std::string, std::string> origin; // for messages: where an entry came from
};

Result<uint32_t> parse_evm_mode(std::string_view s)
{
	int base = 10;
	if (s.starts_with("0x") || s.starts_with("0X")) {
		base = 16;
		s.remove_prefix(2);
	}
	uint32_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return fail("--evm-mode: not a 32-bit decimal or 0x hex number");
	if (v & ~evm_init_mask) {
		char buf[96];
		std::snprintf(buf, sizeof(buf),
			      "--evm-mode: unknown bits 0x%x (the kernel knows 0x%x)",
			      v & ~evm_init_mask, evm_init_mask);
		return fail(buf);
	}
	return v;
}

// Splits on '/' dropping empty and "." components; ".." cannot be
// expressed inside the payload.
Result<std::string> normalise_dest(std::string_view d)
{
	std::string out;
	size_t i = 0;
	while (i <= d.size()) {
		size_t j = d.find('/', i);
		if (j == std::string_view::npos)
			j = d.size();
		std::string_view c = d.substr(i, j - i);
		i = j + 1;
		if (c.empty() || c == ".")
			continue;
		if (c == "..")
			return fail("'..' would leave the payload");
		if (!out.empty())
			out += '/';
		out += c;
	}
	return out;
}

// Splits "SRC[:DEST]" at the last ':'.
std::pair<std::string, std::optional<std::string>> split_src_dest(const std::string &arg)
{
	auto colon = arg.rfind(':');
	if (colon == std::string::npos)
		return { arg, std::nullopt };
	return { arg.substr(0, colon), arg.substr(colon + 1) };
}

std::string base_name(const std::string &p)
{
	std::string s = p;
	while (s.size() > 1 && s.back() == '/')
		s.pop_back();
	auto slash = s.rfind('/');
	return slash == std::string::npos ? s : s.substr(slash + 1);
}

std::string dir_name(const std::string &p)
{
	auto slash = p.rfind('/');
	if (slash == std::string::npos)
		return ".";
	return slash == 0 ? "/" : p.substr(0, slash);
}

PayloadEntry make_dir(const std::string &path, mode_t perm = 0755)
{
	PayloadEntry e;
	e.path = path;
	e.kind = PayloadEntry::Kind::dir;
	e.perm = perm;
	return e;
}

PayloadEntry make_file(const std::string &path, Bytes data, mode_t perm = 0644)
{
	PayloadEntry e;
	e.path = path;
	e.kind = PayloadEntry::Kind::file;
	e.perm = perm;
	e.data = std::move(data);
	return e;
}

// Adds e and, implicitly, its missing parents. Two definitions of a path
// are an error unless both are directories with the same mode.
Status add_entry(PayloadTree &t, PayloadEntry e, const std::string &origin, bool implicit = false)
{
	for (size_t slash = e.path.find('/'); slash != std::string::npos;
	     slash = e.path.find('/', slash + 1)) {
		std::string parent = e.path.substr(0, slash);
		auto it = t.entries.find(parent);
		if (it == t.entries.end()) {
			t.entries.emplace(parent, make_dir(parent));
			t.implicit[parent] = true;
			t.origin[parent] = origin;
		} else if (it->second.kind != PayloadEntry::Kind::dir) {
			return fail(origin + ": " + e.path + ": parent " + parent +
				    " is not a directory (from " + t.origin[parent] + ")");
		}
	}
	auto it = t.entries.find(e.path);
	if (it != t.entries.end()) {
		auto &old = it->second;
		if (old.kind == PayloadEntry::Kind::dir && e.kind == PayloadEntry::Kind::dir) {
			if (implicit)
				return {};
			if (t.implicit[e.path]) {
				old.perm = e.perm;
				t.implicit[e.path] = false;
				t.origin[e.path] = origin;
				return {};
			}
			if (old.perm == e.perm)
				return {};
		}
		return fail(origin + ": " + e.path + " is already in the payload (from " +
			    t.origin[e.path] + ")");
	}
	t.implicit[e.path] = implicit;
	t.origin[e.path] = origin;
	t.entries.emplace(e.path, std::move(e));
	return {};
}

const char *file_type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a fifo";
	case S_IFSOCK:
		return "a socket";
	}
	return "not a regular file, directory or symlink";
}

// Reads the tree below dirfd (opened on src) into the payload under dest,
// never following a symlink: links are copied as links.
Status add_tree(PayloadTree &t, int dirfd, const std::string &src, const std::string &dest,
		const std::string &origin, unsigned depth)
{
	if (depth > 64)
		return fail(src + ": directory tree deeper than 64 levels");
	int dupfd = ::dup(dirfd);
	if (dupfd < 0)
		return fail_errno(src + ": dup");
	std::unique_ptr<DIR, int (*)(DIR *)> dir(::fdopendir(dupfd), ::closedir);
	if (!dir) {
		::close(dupfd);
		return fail_errno(src + ": cannot read directory");
	}
	std::vector<std::string> names;
	errno = 0;
	while (struct dirent *de = ::readdir(dir.get())) {
		std::string_view n = de->d_name;
		if (n != "." && n != "..")
			names.emplace_back(n);
		errno = 0;
	}
	if (errno)
		return fail_errno(src + ": cannot read directory");
	std::sort(names.begin(), names.end());
	for (auto &n : names) {
		std::string s = src + "/" + n;
		std::string d = dest.empty() ? n : dest + "/" + n;
		struct stat st;
		if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
			return fail_errno("cannot stat " + s);
		if (S_ISDIR(st.st_mode)) {
			UniqueFd sub(::openat(dirfd, n.c_str(),
					      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			if (!sub)
				return fail_errno("cannot open " + s);
			if (auto r = add_entry(t, make_dir(d, st.st_mode & 07777), origin); !r)
				return r;
			if (auto r = add_tree(t, sub.get(), s, d, origin, depth + 1); !r)
				return r;
		} else if (S_ISREG(st.st_mode)) {
			UniqueFd fd(::openat(dirfd, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
			if (!fd)
				return fail_errno("cannot open " + s);
			auto data = read_fd(fd.get(), ExtractLimits{}.max_entry_size);
			if (!data)
				return wrap(data.error(), s);
			if (auto r = add_entry(
				t, make_file(d, std::move(*data), st.st_mode & 07777), origin);
			    !r)
				return r;
		} else if (S_ISLNK(st.st_mode)) {
			char buf[PATH_MAX];
			ssize_t len = ::readlinkat(dirfd, n.c_str(), buf, sizeof(buf));
			if (len < 0)
				return fail_errno("cannot read symlink " + s);
			PayloadEntry e;
			e.path = d;
			e.kind = PayloadEntry::Kind::symlink;
			e.perm = 0777;
			e.target.assign(buf, static_cast<size_t>(len));
			if (auto r = add_entry(t, std::move(e), origin); !r)
				return r;
		} else {
			return fail(s + ": is " + file_type_name(st.st_mode) +
				    "; the payload holds files, directories and symlinks only");
		}
	}
	return {};
}

Status add_source(PayloadTree &t, const std::string &arg)
{
	std::string origin = "--add " + arg;
	auto [src, dest_arg] = split_src_dest(arg);
	if (src.empty())
		return fail(origin + ": no source");
	auto dest = normalise_dest(dest_arg.value_or(base_name(src)));
	if (!dest)
		return wrap(dest.error(), origin);
	// SRC itself is followed when it is a symlink (as cp -H does); links
	// inside a tree are copied as links.
	struct stat st;
	if (::stat(src.c_str(), &st) != 0)
		return fail_errno(origin + ": cannot stat " + src);
	if (S_ISDIR(st.st_mode)) {
		UniqueFd fd(::open(src.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		if (!fd)
			return fail_errno(origin + ": cannot open " + src);
		if (!dest->empty())
			if (auto r = add_entry(t, make_dir(*dest, st.st_mode & 07777), origin); !r)
				return r;
		if (auto r = add_tree(t, fd.get(), src, *dest, origin, 0); !r)
			return wrap(r.error(), origin);
		return {};
	}
	if (!S_ISREG(st.st_mode))
		return fail(origin + ": " + src + " is " + file_type_name(st.st_mode) +
			    "; the payload holds files, directories and symlinks only");
	if (dest->empty())
		return fail(origin + ": a file needs a file name as DEST");
	auto data = read_file(src, ExtractLimits{}.max_entry_size);
	if (!data)
		return wrap(data.error(), origin);
	return add_entry(t, make_file(*dest, std::move(*data), st.st_mode & 07777), origin);
}

std::string module_origin(const ModuleSpec &m)
{
	return (m.optional ? "--optional-module " : "--module ") + m.path;
}

// A module given by its file rather than by name: "/", or a module suffix
// (a module name never ends in ".ko").
bool names_module_file(const std::string &arg)
{
	return arg.find('/') != std::string::npos || is_module_file_name(arg);
}

Status add_module_file(PayloadTree &t, InitConfig &cfg, const std::string &origin,
		       const std::string &src, bool optional)
{
	std::string name = base_name(src);
	auto data = read_file(src, ExtractLimits{}.max_entry_size);
	if (!data)
		return wrap(data.error(), origin);
	// finit_module() could take a compressed file, but only from a kernel
	// with CONFIG_MODULE_DECOMPRESS, which distribution kernels that ship
	// compressed modules often lack (kmod decompresses in userspace).
	auto image = module_image(*data, name);
	if (!image)
		return wrap(image.error(), origin);
	std::string dest =
	    std::string(layout::modules_dir) + "/" + uncompressed_module_file_name(name);
	if (auto r = add_entry(t, make_file(dest, std::move(*image)), origin); !r)
		return r;
	cfg.modules.push_back(ModuleSpec{ dest, optional });
	return {};
}

// --module FILE and --module NAME in the order given; the modules a NAME
// pulls in come just before it, each once.
Status add_modules(PayloadTree &t, InitConfig &cfg, const Options &o)
{
	std::vector<ModuleRequest> requests;
	std::vector<size_t> request_of(o.modules.size(), SIZE_MAX);
	for (size_t i = 0; i < o.modules.size(); i++) {
		auto &m = o.modules[i];
		if (names_module_file(m.path))
			continue;
		if (o.kernel_modules.empty())
			return fail(module_origin(m) +
				    ": a module name needs --kernel-modules DIR (or give the "
				    "path of the module file)");
		request_of[i] = requests.size();
		requests.push_back(ModuleRequest{ m.path, m.optional });
	}
	ModuleResolution res;
	std::string dir = o.kernel_modules;
	if (!requests.empty()) {
		auto index = load_module_index(dir);
		if (!index)
			return wrap(index.error(), "--kernel-modules " + dir);
		auto r = resolve_modules(*index, requests);
		if (!r) {
			// Name the option the failure comes from.
			for (size_t i = 0; i < o.modules.size(); i++) {
				if (request_of[i] == SIZE_MAX)
					continue;
				auto one =
				    resolve_modules(*index, std::span(&requests[request_of[i]], 1));
				if (!one)
					return wrap(one.error(), module_origin(o.modules[i]));
			}
			return std::unexpected(r.error());
		}
		res = std::move(*r);
		for (auto &n : res.notes)
			std::fprintf(stderr, "%s: warning: %s\n", prog, n.c_str());
	}
	for (size_t i = 0; i < o.modules.size(); i++) {
		auto &m = o.modules[i];
		std::string origin = module_origin(m);
		if (request_of[i] == SIZE_MAX) {
			if (!is_module_file_name(m.path))
				return fail(origin + ": not a kernel module name (.ko, .ko.gz, "
						     ".ko.xz or .ko.zst)");
			if (auto r = add_module_file(t, cfg, origin, m.path, m.optional); !r)
				return r;
			continue;
		}
		for (auto &r : res.modules) {
			if (r.request != request_of[i])
				continue;
			std::string what = origin;
			if (!r.needed_by.empty())
				what += ": " + r.name + " (needed by " + r.needed_by + ")";
			std::string src = r.path.starts_with("/") ? r.path : dir + "/" + r.path;
			if (auto s = add_module_file(t, cfg, what, src, r.optional); !s)
				return s;
		}
	}
	return {};
}

Status add_firmware(PayloadTree &t, InitConfig &cfg, const std::string &arg)
{
	std::string origin = "--firmware " + arg;
	auto [src, dest_arg] = split_src_dest(arg);
	auto rel = normalise_dest(dest_arg.value_or(base_name(src)));
	if (!rel)
		return wrap(rel.error(), origin);
	if (rel->empty())
		return fail(origin + ": DEST names no file");
	auto data = read_file(src, ExtractLimits{}.max_entry_size);
	if (!data)
		return wrap(data.error(), origin);
	std::string dest = std::string(layout::firmware_dir) + "/" + *rel;
	if (auto r = add_entry(t, make_file(dest, std::move(*data)), origin); !r)
		return r;
	cfg.firmware.push_back(dest);
	return {};
}

// security.ima over the content, then the portable security.evm over
// security.ima and the entry's uid, gid and mode: what the kernel checks
// once the file is in the tmpfs and EVM has a key.
Status sign_entry(PayloadEntry &e, const PrivateKey &ima_key, const PrivateKey &evm_key,
		  HashAlgo algo)
{
	auto ima = ima_sign_buffer(ima_key, algo, e.data);
	if (!ima)
		return wrap(ima.error(), "signing " + e.path);
	Xattrs protected_xattrs = { { "security.ima", *ima } };
	auto evm = evm_portable_sign(evm_key, algo, protected_xattrs, e.meta());
	if (!evm)
		return wrap(evm.error(), "EVM-signing " + e.path);
	e.xattrs = { { "security.evm", std::move(*evm) }, { "security.ima", std::move(*ima) } };
	return {};
}

// A dynamically linked /init cannot run: the initramfs has neither the
// program interpreter nor the libraries, and the kernel panics with "No
// working init found".
bool has_interpreter(const Bytes &elf)
{
	if (elf.size() < sizeof(Elf64_Ehdr) || std::memcmp(elf.data(), ELFMAG, SELFMAG) != 0 ||
	    elf[EI_CLASS] != ELFCLASS64 || elf[EI_DATA] != ELFDATA2LSB)
		return false;
	Elf64_Ehdr eh;
	std::memcpy(&eh, elf.data(), sizeof(eh));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		uint64_t off = eh.e_phoff + uint64_t(i) * eh.e_phentsize;
		if (eh.e_phentsize < sizeof(Elf64_Phdr) || off + sizeof(Elf64_Phdr) > elf.size())
			return false;
		Elf64_Phdr ph;
		std::memcpy(&ph, elf.data() + off, sizeof(ph));
		if (ph.p_type == PT_INTERP)
			return true;
	}
	return false;
}

std::string where(const std::string &file, unsigned line)
{
	return line ? file + ":" + std::to_string(line) : file;
}

Result<Bytes> read_policy(const std::string &path)
{
	auto text = read_file(path, 1 << 20);
	if (!text)
		return wrap(text.error(), "--policy");
	std::string_view sv(reinterpret_cast<const char *>(text->data()), text->size());
	// The policy is signed and loaded by path, so it is meant to be the
	// signed kind: say so when it does not demand signatures for itself.
	auto issues = lint_policy(sv, LintOptions{ .expect_signed_policy = true });
	size_t errors = 0;
	for (auto &i : issues) {
		bool err = i.severity == LintIssue::Severity::error;
		errors += err;
		std::fprintf(stderr, "%s: %s: %s\n", where(path, i.line).c_str(),
			     err ? "error" : "warning", i.message.c_str());
	}
	if (errors)
		return fail(path + ": policy has " + std::to_string(errors) + " error" +
			    (errors > 1 ? "s" : "") + " (the kernel would reject all of it)");
	return text;
}

// The files the build writes, with what signs and checks them.
struct Keys {
	std::optional<PrivateKey> ima, evm, payload;
	std::optional<PublicKey> ima_cert, evm_cert, ca, payload_cert;
};

Result<Keys> load_keys(const Options &o)
{
	Keys k;
	auto key = [&](const std::string &path, const char *opt,
		       std::optional<PrivateKey> &out) -> Status {
		auto r = load_key(path, o.keys);
		if (!r)
			return wrap(r.error(), opt);
		out.emplace(std::move(*r));
		return {};
	};
	auto cert = [&](const std::string &path, const char *opt, std::optional<PublicKey> &out,
			bool bare_ok) -> Status {
		if (path.empty())
			return {};
		auto r = bare_ok ? load_verification_key(path, o.keys) : load_cert(path, o.keys);
		if (!r)
			return wrap(r.error(), opt);
		out.emplace(std::move(*r));
		return {};
	};
	if (auto r = key(o.key, "--key", k.ima); !r)
		return std::unexpected(r.error());
	if (auto r = key(o.evm_key.empty() ? o.key : o.evm_key, "--evm-key", k.evm); !r)
		return std::unexpected(r.error());
	if (auto r = key(o.payload_key.empty() ? o.key : o.payload_key, "--payload-key", k.payload);
	    !r)
		return std::unexpected(r.error());
	if (auto r = cert(o.ima_cert, "--ima-cert", k.ima_cert, false); !r)
		return std::unexpected(r.error());
	if (auto r = cert(o.evm_cert, "--evm-cert", k.evm_cert, false); !r)
		return std::unexpected(r.error());
	if (auto r = cert(o.ca, "--ca", k.ca, false); !r)
		return std::unexpected(r.error());
	if (auto r = cert(o.payload_cert, "--payload-cert", k.payload_cert, true); !r)
		return std::unexpected(r.error());

	// A signature is found by the keyid in its header: take it from the
	// certificate the kernel will index the key by, after checking that
	// the pair belongs together (a mismatch would fail only at boot).
	auto pair = [](PrivateKey &key, const std::optional<PublicKey> &c, const char *kopt,
		       const char *copt) -> Status {
		if (!c)
			return {};
		if (auto r = key_matches(key, *c); !r)
			return wrap(r.error(), std::string(kopt) + " does not match " + copt);
		key.set_keyid(c->keyid());
		return {};
	};
	if (auto r = pair(*k.ima, k.ima_cert, "--key", "--ima-cert"); !r)
		return std::unexpected(r.error());
	if (auto r =
		pair(*k.evm, k.evm_cert, o.evm_key.empty() ? "--key" : "--evm-key", "--evm-cert");
	    !r)
		return std::unexpected(r.error());
	if (auto r = pair(*k.payload, k.payload_cert,
			  o.payload_key.empty() ? "--key" : "--payload-key", "--payload-cert");
	    !r)
		return std::unexpected(r.error());
	// /init checks the chains before loading: fail here rather than at boot.
	if (k.ca) {
		for (auto *c : { &k.ima_cert, &k.evm_cert }) {
			if (!*c)
				continue;
			if (auto r = cert_signed_by(**c, *k.ca); !r)
				return wrap(r.error(), "--ca");
		}
	}
	return k;
}

struct Built {
	Bytes init, tar, sig, trust;
};

Result<Built> build_payload(const Options &o, uint32_t epoch)
{
	auto keys = load_keys(o);
	if (!keys)
		return std::unexpected(keys.error());

	Built b;
	if (!o.no_init) {
		auto init = read_file(o.init, 64 << 20);
		if (!init)
			return wrap(init.error(), "--init");
		if (has_interpreter(*init))
			std::fprintf(
			    stderr,
			    "%s: warning: %s is dynamically linked; the initramfs holds no "
			    "program interpreter or libraries\n",
			    prog, o.init.c_str());
		b.init = std::move(*init);
	}

	InitConfig cfg = o.config;
	PayloadTree tree;
	auto reserved = [&](const char *path, Bytes data) {
		return add_entry(tree, make_file(path, std::move(data)), "the generated layout");
	};
	if (!o.policy.empty()) {
		auto text = read_policy(o.policy);
		if (!text)
			return std::unexpected(text.error());
		if (auto r = reserved(layout::policy, std::move(*text)); !r)
			return std::unexpected(r.error());
		cfg.policy = layout::policy;
	}
	struct CertFile {
		const std::optional<PublicKey> &cert;
		const char *path;
		std::string *conf;
	} certs[] = {
		{ keys->ima_cert, layout::ima_cert, &cfg.ima_cert },
		{ keys->evm_cert, layout::evm_cert, &cfg.evm_cert },
		{ keys->ca, layout::ca_cert, &cfg.ca_cert },
	};
	for (auto &c : certs) {
		if (!c.cert)
			continue;
		if (auto r = reserved(c.path, c.cert->der()); !r)
			return std::unexpected(r.error());
		*c.conf = c.path;
	}
	if (auto r = add_modules(tree, cfg, o); !r)
		return std::unexpected(r.error());
	for (auto &f : o.firmware)
		if (auto r = add_firmware(tree, cfg, f); !r)
			return std::unexpected(r.error());
	cfg.evm_mode = o.evm_mode.value_or(keys->evm_cert ? 0x80000002 : 0);
	std::string conf_text = format_config(cfg);
	// What /init will parse: a setting the parser refuses must not get
	// signed into an initramfs that then cannot boot.
	if (auto r = parse_config(conf_text); !r)
		return wrap(r.error(), "generated " + std::string(layout::config));
	if (auto r = reserved(layout::config, Bytes(conf_text.begin(), conf_text.end())); !r)
		return std::unexpected(r.error());

	for (auto &a : o.adds)
		if (auto r = add_source(tree, a); !r)
			return std::unexpected(r.error());

	std::vector<PayloadEntry> entries;
	for (auto &[path, e] : tree.entries) {
		if (e.kind == PayloadEntry::Kind::file)
			if (auto r = sign_entry(e, *keys->ima, *keys->evm, o.algo); !r)
				return std::unexpected(r.error());
		entries.push_back(std::move(e));
	}
	auto tar = write_payload_tar(std::move(entries), epoch);
	if (!tar)
		return wrap(tar.error(), "writing payload.tar");
	// Read it back with /init's own reader and limits: a payload /init
	// would refuse (a setuid file, a symlink leaving the root, too many
	// entries) fails the build instead of the boot.
	ExtractLimits limits;
	for (auto &x : cfg.xattr_allow)
		limits.xattr_allow.push_back(x);
	if (auto r = read_payload_tar(*tar, limits); !r)
		return wrap(r.error(), "/init would refuse the payload");

	auto sig = sign_payload(*keys->payload, *tar);
	if (!sig)
		return wrap(sig.error(), "signing payload.tar");
	if (keys->payload_cert) {
		if (auto r = verify_payload(*tar, *sig, *keys->payload_cert); !r)
			return wrap(r.error(),
				    "payload.sig does not verify against --payload-cert");
		if (!o.no_trust_anchor) {
			auto der = public_key_der(*keys->payload_cert);
			if (!der)
				return std::unexpected(der.error());
			b.trust = std::move(*der);
		}
	}
	b.tar = std::move(*tar);
	b.sig = std::move(*sig);
	return b;
}

std::vector<CpioEntry> cpio_entries(const Options &o, Built &b)
{
	std::vector<CpioEntry> v;
	auto add = [&](const char *name, mode_t mode, Bytes data = {}) -> CpioEntry & {
		CpioEntry e;
		e.name = name;
		e.mode = mode;
		e.data = std::move(data);
		v.push_back(std::move(e));
		return v.back();
	};
	if (!o.no_init) {
		add("dev", S_IFDIR | 0755);
		// The kernel opens /dev/console for PID 1's stdio before /init
		// can mount devtmpfs.
		auto &console = add("dev/console", S_IFCHR | 0600);
		console.rdev_major = 5;
		console.rdev_minor = 1;
		add("init", S_IFREG | 0755, std::move(b.init));
	}
	add("ima-init", S_IFDIR | 0755);
	add(layout::payload_tar, S_IFREG | 0600, std::move(b.tar));
	add(layout::payload_sig, S_IFREG | 0600, std::move(b.sig));
	if (!b.trust.empty())
		add(layout::trust_der, S_IFREG | 0644, std::move(b.trust));
	return v;
}

// The file names OUTPUT.d/ may hold: ours, and nothing else, so that
// replacing it never deletes a file we did not write.
constexpr const char *list_files[] = { "init", "payload.tar", "payload.sig", "trust.der" };

const char *list_file_name(const std::string &cpio_name)
{
	return cpio_name == "init" ? "init" : cpio_name.c_str() + std::strlen("ima-init/");
}

// The names in a previous OUTPUT.d/, provided all are ours.
Result<std::vector<std::string>> list_dir_names(int dirfd, const std::string &path)
{
	int dupfd = ::dup(dirfd);
	if (dupfd < 0)
		return fail_errno(path + ": dup");
	std::unique_ptr<DIR, int (*)(DIR *)> dir(::fdopendir(dupfd), ::closedir);
	if (!dir) {
		::close(dupfd);
		return fail_errno("cannot read " + path);
	}
	std::vector<std::string> names;
	while (struct dirent *de = ::readdir(dir.get())) {
		std::string_view n = de->d_name;
		if (n == "." || n == "..")
			continue;
		if (std::find(std::begin(list_files), std::end(list_files), n) ==
		    std::end(list_files))
			return fail(path + " holds " + std::string(n) +
				    ", which this program did not write: not replacing it");
		names.emplace_back(n);
	}
	return names;
}

// Removes a directory holding only files named in list_files.
Status remove_list_dir(const std::string &path)
{
	UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
	if (!fd)
		return fail_errno("cannot open " + path);
	auto names = list_dir_names(fd.get(), path);
	if (!names)
		return std::unexpected(names.error());
	for (auto &n : *names)
		if (::unlinkat(fd.get(), n.c_str(), 0) != 0)
			return fail_errno("cannot remove " + path + "/" + n);
	if (::rmdir(path.c_str()) != 0)
		return fail_errno("cannot remove " + path);
	return {};
}

Status write_list_file(int dirfd, const std::string &dir, const char *name, const Bytes &data,
		       mode_t mode, uint32_t epoch)
{
	UniqueFd fd(
	    ::openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
	if (!fd)
		return fail_errno("cannot create " + dir + "/" + name);
	if (auto r = write_all(fd.get(), data); !r)
		return wrap(r.error(), dir + "/" + name);
	// gen_init_cpio stamps a file with its mtime unless given -t: make that
	// SOURCE_DATE_EPOCH too.
	struct timespec ts[2] = { { static_cast<time_t>(epoch), 0 },
				  { static_cast<time_t>(epoch), 0 } };
	if (::fchmod(fd.get(), mode) != 0 || ::futimens(fd.get(), ts) != 0 ||
	    ::fsync(fd.get()) != 0)
		return fail_errno(dir + "/" + name);
	return {};
}

// gen_init_cpio reads each line with sscanf("%s") and expands ${VAR} in
// source paths: names with blanks or "${" cannot be expressed.
bool list_safe(std::string_view s)
{
	if (s.find("${") != std::string_view::npos)
		return false;
	for (char c : s)
		if (std::isspace(static_cast<unsigned char>(c)) || c == '\0')
			return false;
	return true;
}

// OUTPUT.d/ is made under a temporary name and renamed into place; an
// existing one is swapped out atomically (RENAME_EXCHANGE) and removed.
Status write_list(const Options &o, std::vector<CpioEntry> entries, uint32_t epoch)
{
	std::string out_dir = dir_name(o.output);
	char abs[PATH_MAX];
	if (!::realpath(out_dir.c_str(), abs))
		return fail_errno("cannot resolve the directory of " + o.output);
	std::string abs_out =
	    std::string(abs) + (std::string_view(abs) == "/" ? "" : "/") + base_name(o.output);
	std::string final_dir = abs_out + ".d";
	if (!list_safe(final_dir))
		return fail(final_dir + ": gen_init_cpio cannot use a path with blanks or '${'");

	std::string tmp = final_dir + ".tmp.XXXXXX";
	if (!::mkdtemp(tmp.data()))
		return fail_errno("cannot create " + tmp);
	bool tmp_live = true;
	struct Cleanup {
		const std::string &path;
		bool &live;
		~Cleanup()
		{
			if (live)
				(void)remove_list_dir(path);
		}
	} cleanup{ tmp, tmp_live };

	UniqueFd dfd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!dfd)
		return fail_errno("cannot open " + tmp);
	if (::fchmod(dfd.get(), 0755) != 0)
		return fail_errno("cannot chmod " + tmp);
	for (auto &e : entries) {
		if (!S_ISREG(e.mode))
			continue;
		const char *name = list_file_name(e.name);
		if (auto r = write_list_file(dfd.get(), tmp, name, e.data, e.mode & 0777, epoch);
		    !r)
			return r;
		e.src = final_dir + "/" + name;
		e.data.clear();
	}
	if (::fsync(dfd.get()) != 0)
		return fail_errno("cannot sync " + tmp);

	std::string list = "# gen_init_cpio list for CONFIG_INITRAMFS_SOURCE, written by "
			   "ima-mkinitramfs build\n" +
			   write_gen_init_cpio_list(std::move(entries));

	struct stat st;
	bool exchanged = false;
	if (::lstat(final_dir.c_str(), &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return fail(final_dir + " exists and is not a directory");
		// Refuse before swapping: afterwards it would be too late.
		UniqueFd old(
		    ::open(final_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		if (!old)
			return fail_errno("cannot open " + final_dir);
		if (auto names = list_dir_names(old.get(), final_dir); !names)
			return std::unexpected(names.error());
		if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(),
				RENAME_EXCHANGE) != 0)
			return fail_errno("cannot replace " + final_dir);
		exchanged = true;
	} else if (errno != ENOENT) {
		return fail_errno("cannot stat " + final_dir);
	} else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(),
			       RENAME_NOREPLACE) != 0) {
		return fail_errno("cannot create " + final_dir);
	} else {
		tmp_live = false;
	}

	auto written = write_file_atomic(o.output, as_bytes(list), 0644);
	if (!written) {
		// Put back what was there, so a failed run changes nothing.
		if (exchanged)
			(void)::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(),
					  RENAME_EXCHANGE);
		else
			(void)remove_list_dir(final_dir);
		return written;
	}
	if (exchanged) {
		// tmp now holds the previous OUTPUT.d. The new output is in place
		// whatever happens here, so a leftover is worth a warning only.
		tmp_live = false;
		if (auto r = remove_list_dir(tmp); !r)
			std::fprintf(stderr, "%s: warning: removing the previous %s: %s\n", prog,
				     final_dir.c_str(), r.error().what().c_str());
	}
	return {};
}

Status build(const Options &o)
{
	// Fail before the signing work when the output cannot be written.
	std::string out_dir = dir_name(o.output);
	if (::access(out_dir.c_str(), W_OK | X_OK) != 0)
		return fail_errno("-o " + o.output + ": cannot write into " + out_dir);
	auto epoch = source_date_epoch();
	if (!epoch)
		return std::unexpected(epoch.error());
	auto b = build_payload(o, *epoch);
	if (!b)
		return std::unexpected(b.error());
	auto entries = cpio_entries(o, *b);
	if (o.format == Format::list)
		return write_list(o, std::move(entries), *epoch);
	Bytes cpio = write_cpio_newc(std::move(entries), *epoch);
	auto out = compress(cpio, o.compression.value_or(Compression::none));
	if (!out)
		return wrap(out.error(), "compressing");
	return write_file_atomic(o.output, *out, 0644);
}

// Options into o; returns -1 to go on, or the exit status.
int parse_options(int argc, char **argv, Options &o)
{
	std::string pass_file, pass_env;
	bool no_lock = false;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, ":k:a:o:h", long_options, nullptr)) != -1) {
		std::string arg = optarg ? optarg : "";
		switch (c) {
		case opt_init:
			o.init = arg;
			break;
		case opt_no_init:
			o.no_init = true;
			break;
		case opt_policy:
			o.policy = arg;
			break;
		case opt_ima_cert:
			o.ima_cert = arg;
			break;
		case opt_evm_cert:
			o.evm_cert = arg;
			break;
		case opt_ca:
			o.ca = arg;
			break;
		case opt_add:
			o.adds.push_back(arg);
			break;
		case opt_module:
		case opt_optional_module:
			o.modules.push_back(ModuleSpec{ arg, c == opt_optional_module });
			break;
		case opt_firmware:
			o.firmware.push_back(arg);
			break;
		case opt_kernel_modules:
			o.kernel_modules = arg;
			break;
		case 'k':
			o.key = arg;
			break;
		case opt_evm_key:
			o.evm_key = arg;
			break;
		case opt_payload_key:
			o.payload_key = arg;
			break;
		case opt_payload_cert:
			o.payload_cert = arg;
			break;
		case opt_no_trust_anchor:
			o.no_trust_anchor = true;
			break;
		case 'a': {
			auto a = hash_algo_from_name(arg);
			if (!a || *a == HashAlgo::sha1)
				return report_usage_error(
				    prog, "--hash-algo: unsupported hash algorithm '" + arg +
					      "' (use sha256, sha384 or sha512)");
			o.algo = *a;
			break;
		}
		case opt_pass_file:
			pass_file = arg;
			break;
		case opt_pass_env:
			pass_env = arg;
			break;
		case opt_allow_debug:
			o.keys.allow_debug_keys = true;
			break;
		case opt_evm_mode: {
			auto m = parse_evm_mode(arg);
			if (!m)
				return report_usage_error(prog, m.error().what());
			o.evm_mode = *m;
			break;
		}
		case opt_failure_action: {
			auto a = failure_action_from_name(arg);
			if (!a)
				return report_usage_error(prog,
							  "--failure-action: " + a.error().what());
			o.config.failure_action = *a;
			break;
		}
		case opt_root_wait: {
			auto n = parse_unsigned(arg, UINT_MAX);
			if (!n)
				return report_usage_error(prog, "--root-wait: " + n.error().what());
			o.config.root_wait = static_cast<unsigned>(*n);
			break;
		}
		case opt_allow_untrusted:
			o.config.allow_untrusted_keyring = true;
			break;
		case opt_no_lock:
			no_lock = true;
			break;
		case opt_require_signed_init:
			o.config.require_signed_init = true;
			break;
		case opt_format:
			if (arg == "cpio")
				o.format = Format::cpio;
			else if (arg == "list")
				o.format = Format::list;
			else
				return report_usage_error(prog, "--format: unknown format '" + arg +
								    "' (use cpio or list)");
			break;
		case opt_compress: {
			auto z = compression_from_name(arg);
			if (!z)
				return report_usage_error(prog, "--compress: " + z.error().what());
			o.compression = *z;
			break;
		}
		case 'o':
			o.output = arg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return report_usage_error(prog, std::string("option ") + argv[optind - 1] +
							    " needs a value");
		default:
			return report_usage_error(prog, std::string("unknown option ") +
							    argv[optind - 1]);
		}
	}
	o.config.lock_keyrings = !no_lock;
	if (optind < argc)
		return report_usage_error(prog, std::string("unexpected argument ") + argv[optind]);
	if (auto r = set_passphrase(o.keys, pass_file, pass_env); !r)
		return report_usage_error(prog, r.error().what());
	if (o.output.empty())
		return report_usage_error(prog, "no output file (-o OUTPUT)");
	if (o.key.empty())
		return report_usage_error(prog, "no signing key (--key KEY)");
	if (o.init.empty() && !o.no_init)
		return report_usage_error(prog, "no /init binary (--init FILE, or --no-init)");
	if (!o.init.empty() && o.no_init)
		return report_usage_error(prog, "--init and --no-init are exclusive");
	if (o.payload_cert.empty() && !o.no_trust_anchor)
		return report_usage_error(prog, "no payload trust anchor (--payload-cert CERT, or "
						"--no-trust-anchor when /init has it built in)");
	if (o.format == Format::list && o.compression)
		return report_usage_error(prog,
					  "--compress applies to --format cpio only (the kernel "
					  "build compresses a list's output itself)");
	if (o.evm_mode && (*o.evm_mode & evm_init_x509) && o.evm_cert.empty())
		return report_usage_error(prog,
					  "--evm-mode enables EVM signatures but no --evm-cert "
					  "is given: every file would fail EVM at boot");
	if (!o.kernel_modules.empty() &&
	    std::none_of(o.modules.begin(), o.modules.end(),
			 [](const ModuleSpec &m) { return !names_module_file(m.path); }))
		return report_usage_error(prog, "--kernel-modules " + o.kernel_modules +
						    ": no --module NAME to look up in it");
	if (base_name(o.output).empty() || o.output.back() == '/')
		return report_usage_error(prog, "-o: " + o.output + " names a directory");
	return -1;
}

} // namespace

int cmd_build(int argc, char **argv)
{
	Options o;
	if (int rc = parse_options(argc, argv, o); rc >= 0)
		return rc;
	if (auto r = build(o); !r)
		return report_failure(prog, r.error().what());
	return 0;
}

} // namespace mkinitramfs
