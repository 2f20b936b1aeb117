// etc/ima-init.conf: what /init must do. It lives inside the signed
// payload; nothing security-relevant comes from the kernel command line.
//
// Format: one "key = value" per line, '#' comments (whole lines), unknown
// keys are an error (a typo must not silently weaken a setting), and so is
// a key given twice, except the list keys module, firmware and xattr_allow,
// which take one item per line ("module = PATH [optional]").
#pragma once

#include "imainit/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace imainit {

enum class FailureAction { halt, reboot, panic };

struct ModuleSpec {
	std::string path; // payload-relative, e.g. lib/modules/virtio_blk.ko
	bool optional = false;
};

struct InitConfig {
	std::string ima_cert;			// payload path; empty: none
	std::string evm_cert;			// payload path; empty: none
	std::string ca_cert;			// payload path; certs must chain to it
	std::string policy;			// payload path; empty: no policy
	uint32_t evm_mode = 0x80000002;		// 0: leave EVM alone
	FailureAction failure_action = FailureAction::halt;
	bool allow_untrusted_keyring = false;	// may use _ima/_evm
	bool lock_keyrings = true;
	bool require_signed_init = false;
	unsigned root_wait = 30;		// longest wait for the root device, in seconds (0: none)
	std::vector<ModuleSpec> modules;	// load order
	std::vector<std::string> firmware;
	std::vector<std::string> xattr_allow;	// beyond security.ima/evm
};

Result<InitConfig> parse_config(std::string_view text);
std::string format_config(const InitConfig &c);

std::string_view failure_action_name(FailureAction a);
Result<FailureAction> failure_action_from_name(std::string_view s);

} // namespace imainit
