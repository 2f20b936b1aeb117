// /proc/keys, the only way userspace finds the kernel's own keyrings:
// ".ima" and ".evm" have dot names, which keyctl search (and request_key
// from userspace) never matches, and they are linked into no keyring a
// process possesses. Line format from proc_keys_show() in
// security/keys/proc.c:
//
//   serial flags usage expiry perm uid gid type description
//   3c1f2d0a I------     1 perm 1f0f0000     0     0 keyring   .ima: empty
#pragma once

#include "imainit/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imainit
{

struct ProcKey {
	int32_t serial = 0;
	std::string flags; // "I------": instantiated, revoked, dead, ...
	unsigned usage = 0;
	std::string expiry; // "perm", "expd", "5m" ...
	uint32_t perm = 0;
	int64_t uid = 0, gid = 0;
	std::string type;	 // "keyring", "user"; cut to 9 characters ("asymmetri")
	std::string description; // everything the type's describe() printed

	// For a keyring, the name without the ": <count>" / ": empty" suffix
	// keyring_describe() appends; the description itself otherwise.
	std::string name() const;
	// Number of keys linked in a keyring (0 for ": empty"); nullopt when
	// this is no keyring or the count is not shown.
	std::optional<unsigned> key_count() const;
};

// Fails on a line that does not have the shape above, naming the line.
Result<std::vector<ProcKey>> parse_proc_keys(std::string_view text);

// The first keyring called name, preferring one owned by uid 0 (a user
// could otherwise plant a keyring of the same name in its own quota).
std::optional<ProcKey> find_keyring(const std::vector<ProcKey> &keys, std::string_view name);
std::optional<ProcKey> find_key(const std::vector<ProcKey> &keys, int32_t serial);

// "possessor: view read write search link setattr; user: view read ..."
// from the perm mask (KEY_POS_* / KEY_USR_* / KEY_GRP_* / KEY_OTH_* in
// include/linux/key.h).
std::string describe_key_perm(uint32_t perm);

// Key permission bits, per class (shift by 24, 16, 8, 0 for possessor,
// user, group, other).
inline constexpr uint32_t key_perm_view = 0x01, key_perm_read = 0x02, key_perm_write = 0x04,
			  key_perm_search = 0x08, key_perm_link = 0x10, key_perm_setattr = 0x20;
inline constexpr int key_perm_pos_shift = 24, key_perm_usr_shift = 16, key_perm_grp_shift = 8,
		     key_perm_oth_shift = 0;

} // namespace imainit
