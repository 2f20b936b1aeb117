#include "fixtures.h"
#include "imainit/tree.h"
#include "imainit/xattr.h"

#include <doctest/doctest.h>

#include <atomic>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace imainit;
using fixtures::load_cert;
using fixtures::load_key;

namespace
{

struct TreeDir {
	std::string path;
	UniqueFd fd;

	TreeDir()
	{
		std::string t =
		    (std::filesystem::temp_directory_path() / "imainit-tree-XXXXXX").string();
		REQUIRE(mkdtemp(t.data()) != nullptr);
		path = t;
		fd.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		REQUIRE(fd);
	}
	~TreeDir() { std::filesystem::remove_all(path); }

	void write(const std::string &rel, const std::string &content)
	{
		std::filesystem::create_directories(
		    std::filesystem::path(path + "/" + rel).parent_path());
		std::ofstream(path + "/" + rel) << content;
	}
	std::string at(const std::string &rel) const { return path + "/" + rel; }

	// security.* xattrs need a filesystem that stores them (and root).
	bool has_security_xattrs()
	{
		write(".probe", "");
		bool ok = ::setxattr(at(".probe").c_str(), "security.ima", "\0", 1, 0) == 0;
		::unlink(at(".probe").c_str());
		return ok;
	}
};

bool has_xattr(const std::string &path, const char *name)
{
	return ::lgetxattr(path.c_str(), name, nullptr, 0) >= 0;
}

} // namespace

TEST_CASE("list_tree lists regular files sorted and skips everything else")
{
	TreeDir t;
	t.write("b/z", "z");
	t.write("b/a", "a");
	t.write("a", "top");
	t.write("skip.me", "x");
	t.write("gone/deep/file", "x");
	REQUIRE(::symlink("a", t.at("link").c_str()) == 0);
	REQUIRE(::symlink("/", t.at("b/dirlink").c_str()) == 0);
	REQUIRE(::mkfifo(t.at("fifo").c_str(), 0600) == 0);

	TreeWalkOptions opts;
	opts.exclude = { "*.me", "gone" };
	auto l = list_tree(t.fd.get(), opts);
	REQUIRE_MESSAGE(l, l.error().what());
	CHECK(l->files == std::vector<std::string>{ "a", "b/a", "b/z" });
	CHECK(l->skipped == 3);
	CHECK(l->excluded == 2);
	CHECK(l->mounts.empty());

	// A pattern with '/' matches the path from the root, not a name.
	opts.exclude = { "b/*" };
	l = list_tree(t.fd.get(), opts);
	REQUIRE(l);
	CHECK(l->files == std::vector<std::string>{ "a", "gone/deep/file", "skip.me" });
	opts.exclude = { "z" };
	l = list_tree(t.fd.get(), opts);
	REQUIRE(l);
	CHECK(l->files.size() == 4);
}

TEST_CASE("list_tree needs a directory")
{
	TreeDir t;
	t.write("f", "x");
	UniqueFd f(::open(t.at("f").c_str(), O_RDONLY));
	auto l = list_tree(f.get());
	REQUIRE_FALSE(l);
	CHECK(l.error().msg == "not a directory");
}

TEST_CASE("list_tree reports an unreadable directory")
{
	if (::geteuid() == 0)
		return; // root reads any directory
	TreeDir t;
	t.write("locked/f", "x");
	::chmod(t.at("locked").c_str(), 0);
	auto l = list_tree(t.fd.get());
	::chmod(t.at("locked").c_str(), 0755);
	REQUIRE_FALSE(l);
	CHECK(l.error().msg == "cannot open directory locked");
}

TEST_CASE("open_tree_file refuses symlinks anywhere in the path and non-regular files")
{
	TreeDir t;
	t.write("real/file", "data");
	REQUIRE(::symlink("real", t.at("dirlink").c_str()) == 0);
	REQUIRE(::symlink("real/file", t.at("filelink").c_str()) == 0);
	REQUIRE(::mkfifo(t.at("fifo").c_str(), 0600) == 0);

	CHECK(open_tree_file(t.fd.get(), "real/file"));

	auto r = open_tree_file(t.fd.get(), "dirlink/file");
	REQUIRE_FALSE(r);
	CHECK(r.error().msg == "is or passes through a symlink (not followed)");
	r = open_tree_file(t.fd.get(), "filelink");
	REQUIRE_FALSE(r);
	CHECK(r.error().err == ELOOP);
	// A fifo put where a file was must neither block nor be signed.
	r = open_tree_file(t.fd.get(), "fifo");
	REQUIRE_FALSE(r);
	CHECK(r.error().msg == "not a regular file any more");
	r = open_tree_file(t.fd.get(), "real");
	REQUIRE_FALSE(r);
	CHECK(r.error().msg == "not a regular file any more");
	r = open_tree_file(t.fd.get(), "../etc/passwd");
	REQUIRE_FALSE(r);
	CHECK(r.error().msg == "path leaves the tree");
	r = open_tree_file(t.fd.get(), "missing");
	REQUIRE_FALSE(r);
	CHECK(r.error().what() == "cannot open: No such file or directory");
}

TEST_CASE("sign_tree and verify_tree round trip, with progress")
{
	TreeDir t;
	if (!t.has_security_xattrs()) {
		MESSAGE("skipped: no security.* xattrs here");
		return;
	}
	for (int i = 0; i < 50; i++)
		t.write("d" + std::to_string(i % 7) + "/f" + std::to_string(i),
			std::string(i * 997, 'x'));
	auto l = list_tree(t.fd.get());
	REQUIRE(l);
	REQUIRE(l->files.size() == 50);

	auto ima = load_key("privkey_ima.pem");
	auto evm = load_key("rsa/privkey_evm.pem");
	TreeSignOptions so;
	so.ima_key = &ima;
	so.evm_key = &evm;
	so.jobs = 3;
	std::atomic<size_t> last{ 0 };
	so.progress.report = [&](size_t done, size_t total) {
		CHECK(total == 50);
		last = done;
	};
	so.progress.interval = std::chrono::milliseconds(1);
	auto r = sign_tree(t.fd.get(), l->files, so);
	REQUIRE_MESSAGE(r, r.error().what());
	CHECK(last == 50); // one last report once every file is done

	auto ima_cert = load_cert("x509_ima.der");
	auto evm_cert = load_cert("rsa/x509_evm.der");
	TreeVerifyOptions vo;
	vo.keys = { &ima_cert, &evm_cert };
	vo.evm = true;
	CHECK(verify_tree(t.fd.get(), l->files, vo).empty());

	// Every failure is reported, sorted, with the reason.
	t.write("d1/f1", "changed");
	REQUIRE(::chmod(t.at("d3/f3").c_str(), 0600) == 0);
	REQUIRE(::removexattr(t.at("d4/f4").c_str(), "security.evm") == 0);
	REQUIRE(::removexattr(t.at("d5/f5").c_str(), "security.ima") == 0);
	auto failures = verify_tree(t.fd.get(), l->files, vo);
	REQUIRE(failures.size() == 4);
	CHECK(failures[0].path == "d1/f1");
	CHECK(failures[0].reason.starts_with("security.ima: signature does not verify"));
	CHECK(failures[1].path == "d3/f3");
	CHECK(failures[1].reason.starts_with("security.evm: signature does not verify"));
	CHECK(failures[2].path == "d4/f4");
	CHECK(failures[2].reason == "missing security.evm");
	CHECK(failures[3].path == "d5/f5");
	CHECK(failures[3].reason == "missing security.ima");

	// Without --evm the EVM damage does not count.
	vo.evm = false;
	CHECK(verify_tree(t.fd.get(), l->files, vo).size() == 2);
	vo.keys = { &evm_cert };
	failures = verify_tree(t.fd.get(), l->files, vo);
	REQUIRE(failures.size() == 50);
	CHECK(failures[0].reason.starts_with("security.ima: no key with keyid"));
}

TEST_CASE("sign_tree signs each distinct content once")
{
	TreeDir t;
	if (!t.has_security_xattrs()) {
		MESSAGE("skipped: no security.* xattrs here");
		return;
	}
	for (auto name : { "a", "b", "c" })
		t.write(name, "same content");
	t.write("d", "other content");
	REQUIRE(::chmod(t.at("c").c_str(), 0600) == 0);
	std::vector<std::string> files = { "a", "b", "c", "d" };
	auto k = load_key("rsa/privkey_ima.pem");
	TreeSignOptions so;
	so.ima_key = &k;
	so.evm_key = &k;
	so.jobs = 1;
	auto stats = sign_tree(t.fd.get(), files, so);
	REQUIRE_MESSAGE(stats, stats.error().what());
	CHECK(stats->files == 4);
	CHECK(stats->ima_signatures == 2);
	CHECK(stats->evm_signatures == 3); // c's mode differs from a's and b's

	auto c = load_cert("rsa/x509_ima.der");
	TreeVerifyOptions vo;
	vo.keys = { &c };
	vo.evm = true;
	CHECK(verify_tree(t.fd.get(), files, vo).empty());
	auto value = [&](const char *f, const char *name) {
		UniqueFd fd(::open(t.at(f).c_str(), O_RDONLY));
		auto v = get_xattr(fd.get(), name);
		REQUIRE(v);
		REQUIRE(*v);
		return **v;
	};
	CHECK(value("a", "security.ima") == value("c", "security.ima"));
	CHECK(value("a", "security.evm") == value("b", "security.evm"));
	CHECK(value("a", "security.evm") != value("c", "security.evm"));
	CHECK(value("a", "security.ima") != value("d", "security.ima"));
}

TEST_CASE("verify_file_labels checks one open file")
{
	TreeDir t;
	if (!t.has_security_xattrs()) {
		MESSAGE("skipped: no security.* xattrs here");
		return;
	}
	t.write("init", "#!/bin/sh\n");
	auto k = load_key("privkey_ima.pem");
	TreeSignOptions so;
	so.ima_key = &k;
	so.evm_key = &k;
	REQUIRE(sign_tree(t.fd.get(), { "init" }, so));
	auto c = load_cert("x509_ima.der");
	const PublicKey *keys[] = { &c };
	auto fd = open_tree_file(t.fd.get(), "init");
	REQUIRE(fd);
	// The offset does not matter: the file is hashed from its start.
	char b;
	REQUIRE(::read(fd->get(), &b, 1) == 1);
	CHECK(verify_file_labels(fd->get(), keys, true));
	REQUIRE(::fsetxattr(fd->get(), "security.ima", "\x04\x04", 2, 0) == 0);
	auto r = verify_file_labels(fd->get(), keys, false);
	REQUIRE_FALSE(r);
	CHECK(r.error().msg.starts_with("security.ima: "));
	// An EVM signature put in security.ima is not an IMA signature.
	auto evm = get_xattr(fd->get(), "security.evm");
	REQUIRE(evm);
	REQUIRE(*evm);
	REQUIRE(::fsetxattr(fd->get(), "security.ima", (*evm)->data(), (*evm)->size(), 0) == 0);
	r = verify_file_labels(fd->get(), keys, false);
	REQUIRE_FALSE(r);
	CHECK(r.error().msg ==
	      "security.ima: not an IMA signature (type 0x05 is an EVM portable signature)");
}

TEST_CASE("sign_tree: dry run writes nothing; errors name the file; a key is required")
{
	TreeDir t;
	t.write("a", "a");
	t.write("b", "b");
	auto k = load_key("privkey_ima.pem");
	TreeSignOptions so;
	auto r = sign_tree(t.fd.get(), { "a" }, so);
	REQUIRE_FALSE(r);
	CHECK(r.error().msg == "no signing key");

	so.ima_key = &k;
	so.evm_key = &k;
	so.dry_run = true;
	REQUIRE(sign_tree(t.fd.get(), { "a", "b" }, so));
	CHECK_FALSE(has_xattr(t.at("a"), "security.ima"));
	CHECK_FALSE(has_xattr(t.at("b"), "security.evm"));

	so.dry_run = false;
	so.jobs = 1;
	r = sign_tree(t.fd.get(), { "a", "missing", "b" }, so);
	REQUIRE_FALSE(r);
	CHECK(r.error().what() == "missing: cannot open: No such file or directory");

	// Nothing to do is not an error.
	CHECK(sign_tree(t.fd.get(), {}, so));
	CHECK(verify_tree(t.fd.get(), {}, TreeVerifyOptions{}).empty());
}

TEST_CASE("one worker reusing its open directories still refuses symlinks and ..")
{
	TreeDir t;
	if (!t.has_security_xattrs()) {
		MESSAGE("skipped: no security.* xattrs here");
		return;
	}
	for (auto f : { "a/b/x", "a/b/c/d/y", "a/b/z", "a/e/w", "top", "real/f" })
		t.write(f, f);
	REQUIRE(::symlink("real", t.at("a/link").c_str()) == 0);
	auto k = load_key("rsa/privkey_ima.pem");
	TreeSignOptions so;
	so.ima_key = &k;
	so.jobs = 1;
	// Deeper, back up, sideways, to the root and down again: each file
	// is found where it is, not in the directory open before it.
	std::vector<std::string> files = {
		"a/b/x", "a/b/c/d/y", "a/b/z", "a/e/w", "top", "real/f"
	};
	REQUIRE(sign_tree(t.fd.get(), files, so));
	auto c = load_cert("rsa/x509_ima.der");
	TreeVerifyOptions vo;
	vo.keys = { &c };
	vo.jobs = 1;
	CHECK(verify_tree(t.fd.get(), files, vo).empty());

	// "a" is open from the file before; "link" below it is still refused.
	auto r = sign_tree(t.fd.get(), { "a/b/x", "a/link/f" }, so);
	REQUIRE_FALSE(r);
	CHECK(r.error().msg == "a/link/f: is or passes through a symlink (not followed)");
	r = sign_tree(t.fd.get(), { "a/b/x", "a/b/../../top" }, so);
	REQUIRE_FALSE(r);
	CHECK(r.error().msg == "a/b/../../top: path leaves the tree");
	r = sign_tree(t.fd.get(), { "a/b/x", "a/b/.." }, so);
	REQUIRE_FALSE(r);
	CHECK(r.error().msg == "a/b/..: path leaves the tree");
	// A directory gone below one still open.
	r = sign_tree(t.fd.get(), { "a/b/x", "a/gone/f" }, so);
	REQUIRE_FALSE(r);
	CHECK(r.error().what() == "a/gone/f: cannot open: No such file or directory");
}

TEST_CASE("sign_tree --evm covers protected xattrs the file already has")
{
	TreeDir t;
	if (!t.has_security_xattrs()) {
		MESSAGE("skipped: no security.* xattrs here");
		return;
	}
	t.write("labelled", "x");
	t.write("plain", "x");
	t.write("relabelled", "x");
	const std::string label = "system_u:object_r:bin_t:s0";
	// Without SELinux loaded the label is stored as given, like a rootfs
	// built on a host for a target that runs SELinux.
	REQUIRE(::setxattr(t.at("labelled").c_str(), "security.selinux", label.data(), label.size(),
			   0) == 0);
	// Names enough for a list longer than the first guess of the reader
	// (256 bytes): the protected one must still be found among them.
	for (int i = 0; i < 12; i++) {
		std::string pad = "security.padding-to-a-long-xattr-list-" + std::to_string(i);
		REQUIRE(::setxattr(t.at("labelled").c_str(), pad.c_str(), "p", 1, 0) == 0);
	}
	// A stale IMA signature must not survive into the EVM digest.
	REQUIRE(::setxattr(t.at("relabelled").c_str(), "security.ima", "\x03stale", 6, 0) == 0);
	REQUIRE(::setxattr(t.at("relabelled").c_str(), "user.other", "u", 1, 0) == 0);

	auto k = load_key("rsa/privkey_ima.pem");
	TreeSignOptions so;
	so.ima_key = &k;
	so.evm_key = &k;
	so.jobs = 1;
	std::vector<std::string> files = { "labelled", "plain", "relabelled" };
	auto stats = sign_tree(t.fd.get(), files, so);
	REQUIRE(stats);
	CHECK(stats->ima_signatures == 1);
	CHECK(stats->evm_signatures == 2); // the label makes one EVM digest differ

	auto c = load_cert("rsa/x509_ima.der");
	TreeVerifyOptions vo;
	vo.keys = { &c };
	vo.evm = true;
	CHECK(verify_tree(t.fd.get(), files, vo).empty());

	// The label is covered: changing it breaks the EVM signature only.
	REQUIRE(::setxattr(t.at("labelled").c_str(), "security.selinux", "x", 1, 0) == 0);
	auto failures = verify_tree(t.fd.get(), files, vo);
	REQUIRE(failures.size() == 1);
	CHECK(failures[0].path == "labelled");
	CHECK(failures[0].reason.starts_with("security.evm: signature does not verify"));
}
