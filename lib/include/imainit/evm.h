// EVM portable signatures (type 0x05) as kernel 6.1 computes them in
// security/integrity/evm/evm_crypto.c: the raw values of the protected
// xattrs present, in the kernel's order, then struct h_misc with ino and
// generation zero, and no filesystem UUID.
#pragma once

#include "imainit/digsig.h"

#include <array>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace imainit {

// Kernel order (evm_config_default_xattrnames).
inline constexpr std::array<std::string_view, 8> evm_protected_xattrs = {
	"security.selinux",	    "security.SMACK64",	    "security.SMACK64EXEC",
	"security.SMACK64TRANSMUTE", "security.SMACK64MMAP", "security.apparmor",
	"security.ima",		    "security.capability",
};

using Xattrs = std::vector<std::pair<std::string, Bytes>>;

struct FileMeta {
	uid_t uid = 0;
	gid_t gid = 0;
	mode_t mode = 0; // full st_mode, file type bits included
};

Result<Digest> evm_portable_digest(HashAlgo algo, const Xattrs &xattrs, const FileMeta &meta);
Result<Bytes> evm_portable_sign(const PrivateKey &key, HashAlgo algo, const Xattrs &xattrs,
				const FileMeta &meta);
// value is the security.evm xattr; fails on anything but a valid type 0x05
// signature over these xattrs and metadata.
Status evm_portable_verify(std::span<const uint8_t> value, const Xattrs &xattrs, const FileMeta &meta,
			   std::span<const PublicKey *const> keys);

} // namespace imainit
