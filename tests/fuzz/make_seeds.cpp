// Writes the seed inputs that only the library's own writers and the debug
// private keys can make: payloads (plain, and with their detached
// signature), signatures and EVM inputs, cpio archives. Usage:
//
//   make-seeds <repository root> <corpus directory>
//
// Signatures (ECDSA) differ from run to run; everything else is stable.
// The hand-written text seeds (policy, cmdline, config) are not touched.
#include "digsig_input.h"
#include "fuzz_keys.h"
#include "imainit/config.h"
#include "imainit/cpio.h"
#include "imainit/digsig.h"
#include "imainit/evm.h"
#include "imainit/payload.h"

#include <archive.h>
#include <archive_entry.h>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sys/stat.h>

using namespace imainit;
using K = PayloadEntry::Kind;

namespace
{

std::string root, out_dir;

[[noreturn]] void die(const std::string &msg)
{
	std::fprintf(stderr, "make-seeds: %s\n", msg.c_str());
	std::exit(1);
}

template <class T> T must(Result<T> r, const std::string &what)
{
	if (!r)
		die(what + ": " + r.error().what());
	return std::move(*r);
}

void put(const std::string &target, const std::string &name, std::span<const uint8_t> data)
{
	std::string dir = out_dir + "/" + target;
	::mkdir(dir.c_str(), 0755);
	if (auto r = write_file_atomic(dir + "/" + name, data); !r)
		die(r.error().what());
}

const PrivateKey &private_key(const std::string &rel)
{
	static std::vector<std::unique_ptr<PrivateKey>> loaded;
	for (auto &k : loaded)
		if (k->path == root + "/keys/debug/" + rel)
			return *k;
	auto k = must(load_private_key(root + "/keys/debug/" + rel), rel);
	loaded.push_back(std::make_unique<PrivateKey>(std::move(k)));
	return *loaded.back();
}

Bytes bytes(std::string_view s)
{
	auto b = as_bytes(s);
	return { b.begin(), b.end() };
}

PayloadEntry entry(std::string path, K kind, mode_t perm, std::string_view data = {})
{
	PayloadEntry e;
	e.path = std::move(path);
	e.kind = kind;
	e.perm = perm;
	if (kind == K::symlink)
		e.target = std::string(data);
	else
		e.data = bytes(data);
	return e;
}

// security.ima over the content, and a portable security.evm over that.
void sign_entry(PayloadEntry &e)
{
	auto ima = must(ima_sign_buffer(private_key("privkey_ima.pem"), HashAlgo::sha256, e.data),
			"security.ima");
	e.xattrs.emplace_back("security.ima", ima);
	auto evm = must(
	    evm_portable_sign(private_key("privkey_evm.pem"), HashAlgo::sha256, e.xattrs, e.meta()),
	    "security.evm");
	e.xattrs.emplace_back("security.evm", evm);
}

std::vector<PayloadEntry> minimal_payload()
{
	std::vector<PayloadEntry> v;
	v.push_back(entry("etc", K::dir, 0755));
	v.push_back(entry("etc/ima-init.conf", K::file, 0644, "evm_mode = 0\n"));
	return v;
}

std::vector<PayloadEntry> full_payload()
{
	std::vector<PayloadEntry> v;
	for (auto d : { "etc", "etc/ima", "etc/keys", "lib", "lib/modules", "lib/firmware" })
		v.push_back(entry(d, K::dir, 0755));
	v.push_back(entry("etc/ima-init.conf", K::file, 0644,
			  "ima_cert = etc/keys/x509_ima.der\n"
			  "evm_cert = etc/keys/x509_evm.der\n"
			  "policy = etc/ima/ima-policy\n"
			  "failure_action = reboot\n"
			  "module = lib/modules/virtio_blk.ko optional\n"
			  "firmware = lib/firmware/fw.bin\n"
			  "xattr_allow = user.*\n"));
	v.push_back(entry("etc/ima/ima-policy", K::file, 0600,
			  "appraise func=POLICY_CHECK appraise_type=imasig\n"
			  "appraise func=MODULE_CHECK appraise_type=imasig\n"));
	v.push_back(entry("etc/keys/x509_ima.der", K::file, 0644, "not really a certificate"));
	v.push_back(entry("lib/modules/virtio_blk.ko", K::file, 0644,
			  "\x7f"
			  "ELF module"));
	v.push_back(entry("lib/firmware/fw.bin", K::file, 0444, "firmware"));
	v.push_back(entry("lib/firmware/current", K::symlink, 0777, "fw.bin"));
	v.push_back(entry("lib/modules/up", K::symlink, 0777, "../firmware/current"));
	for (auto &e : v)
		if (e.kind == K::file)
			sign_entry(e);
	v[7].xattrs.emplace_back("user.note", bytes("a user xattr"));
	v[7].uid = 1000;
	v[7].gid = 100;
	return v;
}

// A long name (pax "path" record) and an entry far from the others.
std::vector<PayloadEntry> long_name_payload()
{
	std::vector<PayloadEntry> v;
	std::string dir = "d";
	v.push_back(entry(dir, K::dir, 0700));
	std::string sub = dir + "/" + std::string(120, 'n');
	v.push_back(entry(sub, K::dir, 0755));
	v.push_back(entry(sub + "/" + std::string(60, 'f'), K::file, 0640, std::string(700, 'x')));
	v.push_back(entry(sub + "/link", K::symlink, 0777, std::string(110, 't')));
	return v;
}

// Other tar dialects the reader must cope with: what GNU tar and
// libarchive write by default.
Bytes other_format(const std::vector<PayloadEntry> &entries, int format)
{
	Bytes out;
	std::unique_ptr<archive, int (*)(archive *)> a(archive_write_new(), archive_write_free);
	archive_write_set_format(a.get(), format);
	archive_write_set_bytes_in_last_block(a.get(), 1);
	archive_write_open(
	    a.get(), &out, nullptr,
	    [](archive *, void *o, const void *buf, size_t n) -> la_ssize_t {
		    auto *b = static_cast<Bytes *>(o);
		    auto *p = static_cast<const uint8_t *>(buf);
		    b->insert(b->end(), p, p + n);
		    return static_cast<la_ssize_t>(n);
	    },
	    nullptr);
	std::unique_ptr<archive_entry, void (*)(archive_entry *)> ae(archive_entry_new(),
								     archive_entry_free);
	for (auto &e : entries) {
		archive_entry_clear(ae.get());
		archive_entry_copy_pathname(ae.get(), e.path.c_str());
		archive_entry_set_filetype(ae.get(), e.kind == K::dir	    ? AE_IFDIR
						     : e.kind == K::symlink ? AE_IFLNK
									    : AE_IFREG);
		archive_entry_set_perm(ae.get(), e.perm);
		archive_entry_set_size(ae.get(), static_cast<la_int64_t>(e.data.size()));
		if (e.kind == K::symlink)
			archive_entry_copy_symlink(ae.get(), e.target.c_str());
		if (archive_write_header(a.get(), ae.get()) < ARCHIVE_WARN)
			die(std::string("libarchive: ") + archive_error_string(a.get()));
		if (!e.data.empty())
			archive_write_data(a.get(), e.data.data(), e.data.size());
	}
	archive_write_close(a.get());
	return out;
}

void payload_seeds()
{
	struct Seed {
		const char *name;
		Bytes tar;
	};
	std::vector<Seed> seeds = {
		{ "minimal", must(write_payload_tar(minimal_payload(), 0), "minimal") },
		{ "full", must(write_payload_tar(full_payload(), 1700000000), "full") },
		{ "long-names", must(write_payload_tar(long_name_payload(), 0), "long") },
		{ "gnutar", other_format(long_name_payload(), ARCHIVE_FORMAT_TAR_GNUTAR) },
		{ "ustar", other_format(minimal_payload(), ARCHIVE_FORMAT_TAR_USTAR) },
	};
	auto &key = private_key("privkey_payload.pem");
	ExtractLimits any;
	any.xattr_allow = { "*" };
	for (auto &s : seeds) {
		// A seed the reader refuses would only exercise its first check.
		must(read_payload_tar(s.tar, any), std::string("reading back ") + s.name);
		put("payload", s.name, s.tar);
		auto sig = must(sign_payload(key, s.tar), "payload signature");
		if (auto r = verify_payload(s.tar, sig, fuzz::key("x509_payload.der")); !r)
			die(std::string("verifying ") + s.name + ": " + r.error().what());
		Bytes in = { static_cast<uint8_t>(sig.size() >> 8),
			     static_cast<uint8_t>(sig.size()) };
		in.insert(in.end(), sig.begin(), sig.end());
		in.insert(in.end(), s.tar.begin(), s.tar.end());
		put("payload_signed", s.name, in);
	}
}

void digsig_seeds()
{
	struct Sig {
		const char *key;
		HashAlgo algo;
	};
	const Sig sigs[] = {
		{ "privkey_ima.pem", HashAlgo::sha256 },
		{ "privkey_evm.pem", HashAlgo::sha384 },
		{ "privkey_payload.pem", HashAlgo::sha512 },
		{ "rsa/privkey_ima.pem", HashAlgo::sha256 },
		{ "rsa/privkey_evm.pem", HashAlgo::sha1 },
		{ "untrusted/privkey_ima.pem", HashAlgo::sha256 },
	};
	int n = 0;
	for (auto &s : sigs) {
		auto d = must(digest_buffer(s.algo, as_bytes(fuzz::signed_message)), "digest");
		auto sig = must(sign_digest(private_key(s.key), s.algo, d), s.key);
		if (auto r = verify_digest(sig, d, fuzz::all_keys()); !r)
			die(std::string("verifying the signature by ") + s.key + ": " +
			    r.error().what());
		for (auto mode : { fuzz::DigsigMode::parse, fuzz::DigsigMode::verify }) {
			Bytes in = { static_cast<uint8_t>(mode) };
			in.insert(in.end(), sig.begin(), sig.end());
			put("digsig",
			    (mode == fuzz::DigsigMode::parse ? "parse-" : "verify-") +
				std::to_string(n),
			    in);
		}
		n++;
	}

	struct Evm {
		const char *name;
		const char *key;
		Xattrs xattrs;
		FileMeta meta;
	};
	auto ima = must(
	    ima_sign_buffer(private_key("privkey_ima.pem"), HashAlgo::sha256, as_bytes("content")),
	    "ima");
	std::vector<Evm> evms = {
		{ "evm-ec",
		  "privkey_evm.pem",
		  { { "security.ima", ima } },
		  { 0, 0, S_IFREG | 0755 } },
		{ "evm-rsa",
		  "rsa/privkey_evm.pem",
		  { { "security.selinux", bytes("system_u:object_r:bin_t:s0") },
		    { "security.ima", ima },
		    { "security.capability", Bytes(20, 1) },
		    { "user.other", bytes("x") } },
		  { 1000, 1000, S_IFDIR | 0700 } },
	};
	for (auto &e : evms) {
		auto sig =
		    must(evm_portable_sign(private_key(e.key), HashAlgo::sha256, e.xattrs, e.meta),
			 e.name);
		if (auto r = evm_portable_verify(sig, e.xattrs, e.meta, fuzz::all_keys()); !r)
			die(std::string(e.name) + ": " + r.error().what());
		Bytes in = { static_cast<uint8_t>(fuzz::DigsigMode::evm) };
		auto body = fuzz::encode_evm_input(sig, e.meta, e.xattrs);
		in.insert(in.end(), body.begin(), body.end());
		put("digsig", e.name, in);
	}
}

void cpio_seeds()
{
	std::vector<CpioEntry> entries(5);
	entries[0] = { "ima-init", S_IFDIR | 0755 };
	entries[1] = { "init", S_IFREG | 0755, 0, 0, 0, 0, bytes("#!/bin/sh\nexec true\n") };
	entries[2] = { "dev/console", S_IFCHR | 0600, 0, 0, 5, 1 };
	entries[3] = { "ima-init/payload.tar", S_IFREG | 0644, 0, 0, 0, 0, Bytes(1024, 0) };
	entries[4] = { "bin/sh", S_IFLNK | 0777, 0, 0, 0, 0, bytes("busybox") };
	auto raw = write_cpio_newc(entries, 0);
	must(read_cpio(raw), "reading back the cpio archive");
	put("cpio", "newc", raw);
	for (auto c : { Compression::gzip, Compression::xz, Compression::zstd }) {
		auto z = must(compress(raw, c), "compress");
		must(read_cpio(z), "reading back a compressed cpio archive");
		put("cpio",
		    c == Compression::gzip ? "newc.gz"
		    : c == Compression::xz ? "newc.xz"
					   : "newc.zst",
		    z);
		// An uncompressed archive followed by a compressed one, as a
		// microcode prefix precedes the main initramfs.
		Bytes both = write_cpio_newc({ entries[1] }, 0);
		both.insert(both.end(), z.begin(), z.end());
		put("cpio",
		    c == Compression::gzip ? "concat.gz"
		    : c == Compression::xz ? "concat.xz"
					   : "concat.zst",
		    both);
	}
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: make-seeds <repository root> <corpus directory>");
	root = argv[1];
	out_dir = argv[2];
	payload_seeds();
	digsig_seeds();
	cpio_seeds();
	return 0;
}
