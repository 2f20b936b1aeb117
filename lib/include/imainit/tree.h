// Labelling and verifying a directory tree in place (a rootfs to be imaged,
// the real root /init hands over to), on all cores.
//
// Every file is opened once, below the tree's root without following any
// symlink, and hashed, signed and labelled through that one descriptor: a
// path swapped for a symlink during the run cannot redirect a signature to
// a file outside the tree.
#pragma once

#include "imainit/evm.h"
#include "imainit/fd.h"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace imainit
{

struct TreeWalkOptions {
	// Descend into other filesystems mounted below the root. Off by
	// default, like find -xdev: a bind-mounted /proc or host directory
	// inside a rootfs being labelled is not part of the image.
	bool cross_mounts = false;
	// fnmatch(3) patterns: one without '/' matches a file or directory
	// name anywhere, one with '/' the path relative to the root. A matching
	// directory is not descended into.
	std::vector<std::string> exclude;
};

struct TreeListing {
	std::vector<std::string> files;	 // regular files, relative to the root, sorted
	size_t skipped = 0;		 // symlinks, devices, fifos, sockets
	size_t excluded = 0;		 // files and directories matched by an exclude pattern
	std::vector<std::string> mounts; // mount points not descended into
};

Result<TreeListing> list_tree(int rootfd, const TreeWalkOptions &opts = {});

// Opens a regular file below rootfd for reading, refusing symlinks in any
// component, paths leaving the root, and anything but a regular file.
Result<UniqueFd> open_tree_file(int rootfd, const std::string &path);

// Progress report for long runs: called on the calling thread, at most
// once per interval, with the number of files finished so far.
struct TreeProgress {
	std::function<void(size_t done, size_t total)> report;
	std::chrono::milliseconds interval{ 100 };
};

struct TreeSignOptions {
	const PrivateKey *ima_key = nullptr; // required
	const PrivateKey *evm_key = nullptr; // nullptr: no security.evm
	HashAlgo algo = HashAlgo::sha256;
	unsigned jobs = 0;    // worker threads; 0: two per core
	bool dry_run = false; // sign, but write no xattr
	TreeProgress progress;
};

struct TreeSignStats {
	size_t files = 0;
	// Signatures computed: files with the same content share one (and
	// files with the same content, owner and mode share an EVM one).
	size_t ima_signatures = 0;
	size_t evm_signatures = 0;
};

// Writes security.ima (digsig v2, type 0x03) on each file and, with an EVM
// key, a portable security.evm (type 0x05) over the file's EVM-protected
// xattrs and its uid, gid and mode. Stops at the first failure, which names
// the file.
Result<TreeSignStats> sign_tree(int rootfd, const std::vector<std::string> &files,
				const TreeSignOptions &opts);

// Checks the security.ima signature of an open regular file and, when evm,
// its portable security.evm; the error says which xattr failed and why.
Status verify_file_labels(int fd, std::span<const PublicKey *const> keys, bool evm);

struct TreeVerifyOptions {
	std::vector<const PublicKey *> keys;
	bool evm = false;
	unsigned jobs = 0;
	TreeProgress progress;
};

struct TreeFailure {
	std::string path;
	std::string reason; // without the path: "security.ima: ..."
};

// Checks every file and returns all failures, sorted by path (empty: the
// whole tree verifies).
std::vector<TreeFailure> verify_tree(int rootfd, const std::vector<std::string> &files,
				     const TreeVerifyOptions &opts);

} // namespace imainit
