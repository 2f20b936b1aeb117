// Step 5: the certificates into the kernel's keyrings.
//
// With CONFIG_INTEGRITY_TRUSTED_KEYRING the kernel owns .ima and .evm and
// accepts only certificates signed by a builtin (or secondary) trusted key.
// Without it the kernel looks the keyrings _ima and _evm up by name
// (request_key() in integrity_keyring_from_id(), security/integrity/
// digsig.c) from the first process it appraises for, which finds them in
// the user keyring of uid 0 through the user session keyring; nothing
// protects them, so they are used only when the configuration allows it,
// and locked against additions when it says so.
#pragma once

#include "context.h"

namespace imainit::boot
{

Status load_keys(BootContext &ctx);

} // namespace imainit::boot
