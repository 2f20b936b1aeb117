// What the boot steps hand on to each other.
#pragma once

#include "imainit/cmdline.h"
#include "imainit/config.h"
#include "imainit/keys.h"

#include <optional>
#include <string>
#include <vector>

namespace imainit::boot
{

// Where the verified payload is extracted: a tmpfs of its own (the initial
// rootfs is ramfs whenever root= is given, and ramfs keeps no xattrs),
// below /run so that it moves into the real root with /run.
inline constexpr const char *run_dir = "/run";
inline constexpr const char *payload_dir = "/run/ima-init";
// Where the real root is mounted before it becomes /.
inline constexpr const char *new_root = "/root";

struct BootContext {
	KernelCmdline cmdline;
	InitConfig config;
	bool config_known = false; // the signed configuration has been read

	std::optional<PublicKey> ima_cert, evm_cert, ca_cert;

	std::string root_device; // e.g. /dev/vda
	std::string root_fstype;
	std::string init_path; // the real init, as the new root sees it

	// Absolute path of a payload file, from a payload-relative one.
	std::string payload_path(const std::string &rel) const
	{
		return std::string(payload_dir) + "/" + rel;
	}
	FailureAction failure_action() const
	{
		return config_known ? config.failure_action : FailureAction::halt;
	}
};

} // namespace imainit::boot
