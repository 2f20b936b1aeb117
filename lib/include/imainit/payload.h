// The signed payload: a pax tar whose entries carry xattrs as
// SCHILY.xattr.<name> records (only those: libarchive 3.6 applies an xattr
// twice when an entry also carries LIBARCHIVE.xattr records).
//
// Reading is two-phase: the whole archive is parsed and checked in memory
// first, and only a payload that passed every check is written out, so a
// rejected archive leaves nothing behind.
#pragma once

#include "imainit/digsig.h"
#include "imainit/evm.h"

#include <cstdint>
#include <string>
#include <vector>

namespace imainit {

struct PayloadEntry {
	enum class Kind { file, dir, symlink };
	std::string path; // relative, normalised: no leading '/', no '.', no '..'
	Kind kind = Kind::file;
	mode_t perm = 0644; // permission bits only (07777)
	uid_t uid = 0;
	gid_t gid = 0;
	Bytes data;	    // file content
	std::string target; // symlink target
	Xattrs xattrs;

	FileMeta meta() const; // uid, gid and full st_mode as EVM sees them
};

struct ExtractLimits {
	size_t max_entries = 4096;
	uint64_t max_entry_size = 256ull << 20;
	uint64_t max_total_size = 512ull << 20;
	size_t max_xattr_size = 8192;
	// Exact names; one ending in '*' matches any name with that prefix
	// ("*" alone: every name, to read the configuration that says which
	// names the real extraction allows).
	std::vector<std::string> xattr_allow = {"security.ima", "security.evm"};
	bool allow_setid = false;
};

// Deterministic: entries sorted by path, every mtime = mtime, numeric
// uid/gid only, no user/group names, no atime/ctime. Paths must be
// normalised and each parent directory must be an entry of its own, as the
// reader requires: the archive states every directory's owner, mode and
// xattrs.
Result<Bytes> write_payload_tar(std::vector<PayloadEntry> entries, int64_t mtime);

// Parses and checks the whole archive; the first violation fails with a
// message naming the entry.
Result<std::vector<PayloadEntry>> read_payload_tar(std::span<const uint8_t> tar, const ExtractLimits &limits = {});

// read_payload_tar, then creates the entries below dirfd (which must be
// empty) without following any symlink, xattrs set on each.
Status extract_payload(std::span<const uint8_t> tar, int dirfd, const ExtractLimits &limits = {});

// Detached payload signature: a digsig v2 (type 0x03) over the SHA-256 of
// payload.tar, byte for byte what `evmctl ima_sign --sigfile` writes.
Result<Bytes> sign_payload(const PrivateKey &key, std::span<const uint8_t> tar);
Status verify_payload(std::span<const uint8_t> tar, std::span<const uint8_t> sig, const PublicKey &trust);

} // namespace imainit
