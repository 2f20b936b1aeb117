// Step 6: the IMA policy, linted with the packer's grammar (the kernel
// rejects a bad policy as a whole, without naming the rule), then loaded by
// writing its path to securityfs so that the kernel reads and appraises the
// file itself (POLICY_CHECK), then read back when the kernel allows it.
#pragma once

#include "context.h"

namespace imainit::boot
{

inline constexpr const char *ima_policy_file = "/sys/kernel/security/ima/policy";

Status load_policy(BootContext &ctx);

} // namespace imainit::boot
