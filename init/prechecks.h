// Step 4: what the kernel is about to check, checked first in userspace so
// that a failure says which file and why: the certificates chain to the
// configured CA, the policy and the modules carry valid signatures.
#pragma once

#include "context.h"

namespace imainit::boot
{

// Loads the configured certificates into ctx, then checks.
Status run_prechecks(BootContext &ctx);

} // namespace imainit::boot
