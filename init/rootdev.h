// Step 9: the real root found (root= resolved with libblkid's low-level
// probe: no cache file, no udev, no uevents), waited for, and mounted on
// /root, read-only unless the command line says rw.
#pragma once

#include "context.h"

namespace imainit::boot
{

Status mount_root(BootContext &ctx);

} // namespace imainit::boot
