// Step 2: root=, rootfstype=, rootflags=, ro/rw, rootwait, rootdelay=,
// init= from /proc/cmdline. The kernel consumed them and passes none on.
#pragma once

#include "imainit/cmdline.h"

namespace imainit::boot
{

Result<KernelCmdline> read_kernel_cmdline();

} // namespace imainit::boot
