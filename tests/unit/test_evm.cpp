#include "fixtures.h"
#include "imainit/evm.h"
#include "imainit/fd.h"
#include "imainit/xattr.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace imainit;
using namespace fixtures;

namespace
{

Bytes bytes(std::string_view s)
{
	return Bytes(s.begin(), s.end());
}

std::string err_of(const Status &s)
{
	return s ? std::string("(success)") : s.error().msg;
}

// security.* xattrs need CAP_SYS_ADMIN and a filesystem that keeps them
// (ext4, tmpfs, ...). Without them the evmctl comparison cannot run.
bool security_xattrs_usable(const TempDir &tmp)
{
	std::string probe = tmp / "probe";
	UniqueFd fd(::open(probe.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
	REQUIRE(fd);
	uint8_t v[] = { 0x04, 0x01 };
	bool ok = ::fsetxattr(fd.get(), "security.ima", v, sizeof(v), 0) == 0;
	::unlink(probe.c_str());
	return ok;
}

FileMeta meta_of(int fd)
{
	struct stat st;
	REQUIRE(::fstat(fd, &st) == 0);
	return FileMeta{ st.st_uid, st.st_gid, st.st_mode };
}

// The last "hash(<algo>): <hex>" line evmctl -v prints: for `verify` that is
// the EVM digest it checked the signature against.
std::string evmctl_last_hash(const std::string &out, std::string_view algo)
{
	std::string tag = "hash(" + std::string(algo) + "): ";
	size_t pos = out.rfind(tag);
	if (pos == std::string::npos)
		return {};
	size_t start = pos + tag.size();
	return out.substr(start, out.find('\n', start) - start);
}

} // namespace

TEST_CASE("portable EVM digest: xattr values in kernel order, then a 24-byte h_misc")
{
	Bytes ima = { 0x03, 0x02, 0x04, 0xde, 0xad };
	FileMeta meta{ 12, 34, S_IFREG | 0640 };
	auto d = evm_portable_digest(HashAlgo::sha256, { { "security.ima", ima } }, meta);
	REQUIRE_MESSAGE(d, why(d));

	// struct h_misc as evmctl -v dumps it for uid 12, gid 34, mode 0100640:
	// ino 0 (8 bytes), generation 0, uid, gid, mode (le16), 2 padding bytes.
	Bytes misc = { 0,    0, 0, 0, 0,    0, 0, 0, 0,	   0,	 0, 0,
		       0x0c, 0, 0, 0, 0x22, 0, 0, 0, 0xa0, 0x81, 0, 0 };
	Bytes all = ima;
	all.insert(all.end(), misc.begin(), misc.end());
	CHECK(*d == *digest_buffer(HashAlgo::sha256, all));

	// Large ids are stored in full, little-endian.
	FileMeta big{ 0x01020304, 0xa0b0c0d0, S_IFDIR | 01755 };
	auto db = evm_portable_digest(HashAlgo::sha512, { { "security.ima", ima } }, big);
	Bytes misc_big = { 0,	 0,    0,    0,	   0,	 0,    0,    0,	   0,	 0,    0, 0,
			   0x04, 0x03, 0x02, 0x01, 0xd0, 0xc0, 0xb0, 0xa0, 0xed, 0x43, 0, 0 };
	all = ima;
	all.insert(all.end(), misc_big.begin(), misc_big.end());
	REQUIRE(db);
	CHECK(db->size() == 64);
	CHECK(*db == *digest_buffer(HashAlgo::sha512, all));
}

TEST_CASE("portable EVM digest follows the kernel's xattr order and set")
{
	FileMeta meta{ 0, 0, S_IFREG | 0755 };
	Bytes ima = { 0x03, 0x02, 0x04, 1, 2, 3 };
	Bytes caps = {
		0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
	};
	Bytes selinux = bytes("system_u:object_r:bin_t:s0");
	Bytes exec = bytes("_");

	Xattrs ordered = { { "security.selinux", selinux },
			   { "security.SMACK64EXEC", exec },
			   { "security.ima", ima },
			   { "security.capability", caps } };
	Xattrs shuffled = {
		{ "user.ignored", bytes("x") },		  { "security.capability", caps },
		{ "security.evm", bytes("not covered") }, { "security.ima", ima },
		{ "security.SMACK64EXEC", exec },	  { "security.selinux", selinux }
	};
	auto a = evm_portable_digest(HashAlgo::sha256, ordered, meta);
	auto b = evm_portable_digest(HashAlgo::sha256, shuffled, meta);
	REQUIRE((a && b));
	CHECK(*a == *b);

	Bytes misc(24, 0);
	misc[20] = 0xed;
	misc[21] = 0x81;
	Bytes all;
	for (auto *v : { &selinux, &exec, &ima, &caps })
		all.insert(all.end(), v->begin(), v->end());
	all.insert(all.end(), misc.begin(), misc.end());
	CHECK(*a == *digest_buffer(HashAlgo::sha256, all));

	// Names of LSMs this kernel may lack (disabled) still count for
	// portable signatures: dropping one changes the digest.
	Xattrs without_exec = { { "security.selinux", selinux },
				{ "security.ima", ima },
				{ "security.capability", caps } };
	CHECK(*evm_portable_digest(HashAlgo::sha256, without_exec, meta) != *a);
}

TEST_CASE("portable EVM digest errors")
{
	FileMeta meta{ 0, 0, S_IFREG | 0644 };
	auto none = evm_portable_digest(HashAlgo::sha256, {}, meta);
	REQUIRE_FALSE(none);
	CHECK(none.error().msg ==
	      "portable EVM signature needs security.ima, which the file lacks");
	auto no_ima =
	    evm_portable_digest(HashAlgo::sha256, { { "security.capability", { 1, 2 } } }, meta);
	REQUIRE_FALSE(no_ima);
	CHECK(no_ima.error().msg ==
	      "portable EVM signature needs security.ima, which the file lacks");
	auto dup = evm_portable_digest(
	    HashAlgo::sha256, { { "security.ima", { 1 } }, { "security.ima", { 2 } } }, meta);
	REQUIRE_FALSE(dup);
	CHECK(dup.error().msg == "xattr security.ima given twice");
}

TEST_CASE("evm_portable_sign and verify, and what breaks the signature")
{
	auto key = load_key("privkey_evm.pem");
	auto cert = load_cert("x509_evm.der");
	auto ima_cert = load_cert("x509_ima.der");
	const PublicKey *ring[] = { &ima_cert, &cert };
	Xattrs x = { { "security.ima", { 0x03, 0x02, 0x04, 9, 9, 9 } } };
	FileMeta meta{ 0, 0, S_IFREG | 0755 };

	auto v = evm_portable_sign(key, HashAlgo::sha256, x, meta);
	REQUIRE_MESSAGE(v, why(v));
	auto p = parse_signature_v2(*v);
	REQUIRE(p);
	CHECK(p->type == SigType::evm_portable);
	CHECK(p->keyid == cert.keyid());
	CHECK(evm_portable_verify(*v, x, meta, ring));

	const std::string bad = "security.evm: signature does not verify with key 0x2f9ccfe8";
	CHECK(err_of(evm_portable_verify(*v, x, { 1, 0, S_IFREG | 0755 }, ring)).find(bad) == 0);
	CHECK(err_of(evm_portable_verify(*v, x, { 0, 1, S_IFREG | 0755 }, ring)).find(bad) == 0);
	CHECK(err_of(evm_portable_verify(*v, x, { 0, 0, S_IFREG | 0775 }, ring)).find(bad) == 0);
	Xattrs changed = { { "security.ima", { 0x03, 0x02, 0x04, 9, 9, 8 } } };
	CHECK(err_of(evm_portable_verify(*v, changed, meta, ring)).find(bad) == 0);
	Xattrs more = x;
	more.push_back({ "security.capability", { 1, 0, 0, 2 } });
	CHECK(err_of(evm_portable_verify(*v, more, meta, ring)).find(bad) == 0);
	CHECK(err_of(evm_portable_verify(*v, {}, meta, ring)) ==
	      "portable EVM signature needs security.ima, which the file lacks");

	const PublicKey *only_ima[] = { &ima_cert };
	CHECK(err_of(evm_portable_verify(*v, x, meta, only_ima)) ==
	      "security.evm: no key with keyid 0x2f9ccfe8 among 1 keys");

	Bytes v03 = *v;
	v03[0] = 0x03;
	CHECK(err_of(evm_portable_verify(v03, x, meta, ring)) ==
	      "security.evm holds an inode-bound signature (type 0x03), not a portable one (0x05)");
	Bytes hmac = { 0x02, 1, 2, 3 };
	CHECK(err_of(evm_portable_verify(hmac, x, meta, ring)) ==
	      "security.evm holds an HMAC (type 0x02), not a portable signature");
	Bytes truncated(v->begin(), v->begin() + 4);
	CHECK(err_of(evm_portable_verify(truncated, x, meta, ring)) ==
	      "security.evm: signature truncated: 4 bytes, header needs 9");
}

TEST_CASE("xattr helpers")
{
	TempDir tmp;
	std::string f = tmp / "f";
	UniqueFd fd(::open(f.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
	REQUIRE(fd);

	auto absent = get_xattr(fd.get(), "user.imainit-test");
	REQUIRE_MESSAGE(absent, why(absent));
	CHECK_FALSE(absent->has_value());

	Bytes big(3000, 0x5a);
	auto set = set_xattr(fd.get(), "user.imainit-test", big);
	if (!set && set.error().err == EOPNOTSUPP) {
		WARN_MESSAGE(false, (std::string("temp dir filesystem has no user xattrs: ") +
				     set.error().what()));
		return;
	}
	REQUIRE_MESSAGE(set, why(set));
	auto got = get_xattr(fd.get(), "user.imainit-test");
	REQUIRE(got);
	REQUIRE(got->has_value());
	CHECK(**got == big);

	Bytes empty;
	REQUIRE(set_xattr(fd.get(), "user.imainit-empty", empty));
	auto e = get_xattr(fd.get(), "user.imainit-empty");
	REQUIRE(e);
	REQUIRE(e->has_value());
	CHECK((*e)->empty());

	auto badfd = get_xattr(-1, "security.ima");
	REQUIRE_FALSE(badfd);
	CHECK(badfd.error().err == EBADF);
	CHECK(badfd.error().what() == "getxattr security.ima: " + std::string(strerror(EBADF)));
	auto badset = set_xattr(-1, "security.ima", big);
	REQUIRE_FALSE(badset);
	CHECK(badset.error().err == EBADF);
	CHECK(badset.error().msg == "setxattr security.ima");
	auto badread = read_evm_xattrs(-1);
	REQUIRE_FALSE(badread);
	CHECK(badread.error().err == EBADF);
	CHECK(badread.error().msg == "listxattr");

	auto none = read_evm_xattrs(fd.get());
	REQUIRE(none);
	CHECK(none->empty()); // user.* is not EVM-protected

	if (!security_xattrs_usable(tmp)) {
		WARN_MESSAGE(false, "security.* xattrs not settable here (needs root): skipping");
		return;
	}
	Bytes ima = { 0x04, 0x04, 1, 2 };
	Bytes caps = {
		0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
	};
	REQUIRE(set_xattr(fd.get(), "security.capability", caps));
	REQUIRE(set_xattr(fd.get(), "security.ima", ima));
	auto x = read_evm_xattrs(fd.get());
	REQUIRE_MESSAGE(x, why(x));
	REQUIRE(x->size() == 2);
	CHECK((*x)[0].first == "security.ima");
	CHECK((*x)[0].second == ima);
	CHECK((*x)[1].first == "security.capability");
	CHECK((*x)[1].second == caps);
}

TEST_CASE("interop with evmctl sign --portable / verify")
{
	std::string out;
	REQUIRE_MESSAGE(run("evmctl --version", &out) == 0, "evmctl (ima-evm-utils) is needed");
	TempDir tmp;
	if (!security_xattrs_usable(tmp)) {
		WARN_MESSAGE(false, (std::string("security.* xattrs not settable in ") + tmp.path +
				     " (needs root): evmctl EVM comparison skipped"));
		return;
	}
	bool have_setcap = run("command -v setcap") == 0;

	struct Case {
		std::string key, cert, algo;
		HashAlgo a;
		bool caps;
	} cases[] = {
		{ "privkey_evm.pem", "x509_evm.der", "sha256", HashAlgo::sha256, false },
		{ "privkey_evm.pem", "x509_evm.der", "sha512", HashAlgo::sha512, true },
		{ "rsa/privkey_evm.pem", "rsa/x509_evm.der", "sha256", HashAlgo::sha256, true },
		{ "rsa/privkey_evm.pem", "rsa/x509_evm.der", "sha512", HashAlgo::sha512, false },
	};
	int n = 0;
	for (auto &c : cases) {
		CAPTURE(c.key);
		CAPTURE(c.algo);
		auto key = load_key(c.key);
		auto cert = load_cert(c.cert);
		const PublicKey *ring[] = { &cert };
		std::string certpath = debug_dir + "/" + c.cert;

		// A file with owner, mode and (maybe) capabilities set before
		// signing: chown clears security.capability, so setcap last.
		std::string f = tmp / ("f" + std::to_string(n++));
		REQUIRE(write_file_atomic(f, as_bytes("content " + std::to_string(n)), 0750));
		REQUIRE(::chown(f.c_str(), 1000 + n, 2000 + n) == 0);
		REQUIRE(::chmod(f.c_str(), 04751) == 0);
		bool caps = c.caps && have_setcap;
		if (caps)
			REQUIRE(run("setcap cap_net_raw+ep " + f, &out) == 0);

		// evmctl signs (security.ima and security.evm), we verify and
		// compute the same digest.
		REQUIRE_MESSAGE(run("evmctl sign --portable --imasig -a " + c.algo + " --key " +
					debug_dir + "/" + c.key + " " + f,
				    &out) == 0,
				out);
		{
			UniqueFd fd(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
			REQUIRE(fd);
			auto x = read_evm_xattrs(fd.get());
			REQUIRE_MESSAGE(x, why(x));
			CHECK(x->size() == (caps ? 2u : 1u));
			auto evm = get_xattr(fd.get(), "security.evm");
			REQUIRE(evm);
			REQUIRE(evm->has_value());
			CHECK((**evm)[0] == 0x05);
			FileMeta meta = meta_of(fd.get());
			CHECK(meta.mode == (S_IFREG | 04751));
			CHECK_MESSAGE(evm_portable_verify(**evm, *x, meta, ring),
				      err_of(evm_portable_verify(**evm, *x, meta, ring)));

			REQUIRE(run("evmctl -v verify --key " + certpath + " " + f, &out) == 0);
			auto d = evm_portable_digest(c.a, *x, meta);
			REQUIRE(d);
			CHECK(to_hex(*d) == evmctl_last_hash(out, c.algo));

			// Our IMA check accepts evmctl's security.ima too.
			auto ima = get_xattr(fd.get(), "security.ima");
			REQUIRE((ima && ima->has_value()));
			CHECK(ima_verify_file(**ima, f, ring));
		}

		// We sign, evmctl verifies.
		{
			UniqueFd fd(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
			REQUIRE(fd);
			auto ima = ima_sign_file(key, c.a, f);
			REQUIRE(ima);
			REQUIRE(set_xattr(fd.get(), "security.ima", *ima));
			auto x = read_evm_xattrs(fd.get());
			REQUIRE(x);
			auto evm = evm_portable_sign(key, c.a, *x, meta_of(fd.get()));
			REQUIRE_MESSAGE(evm, why(evm));
			REQUIRE(set_xattr(fd.get(), "security.evm", *evm));
		}
		CHECK_MESSAGE(run("evmctl verify --key " + certpath + " " + f, &out) == 0, out);

		// A mode change after signing breaks it for evmctl and for us.
		REQUIRE(::chmod(f.c_str(), 0751) == 0);
		CHECK(run("evmctl verify --key " + certpath + " " + f, &out) != 0);
		UniqueFd fd(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
		REQUIRE(fd);
		auto x = read_evm_xattrs(fd.get());
		auto evm = get_xattr(fd.get(), "security.evm");
		REQUIRE((x && evm && evm->has_value()));
		CHECK(err_of(evm_portable_verify(**evm, *x, meta_of(fd.get()), ring))
			  .find("security.evm: signature does not verify") == 0);
	}
}
