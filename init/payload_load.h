// Step 3: payload.tar read once into memory, its signature verified against
// the trust anchor, and that same buffer (never the file again) extracted
// into a fresh tmpfs; then the signed configuration read from it.
#pragma once

#include "context.h"

namespace imainit::boot
{

Status load_payload(BootContext &ctx);

} // namespace imainit::boot
