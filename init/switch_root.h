// Step 10: the real init checked while everything can still be undone,
// then the switch: the initramfs emptied (without crossing into mounts),
// /dev /proc /sys /run moved into the new root, the new root moved onto /
// and chrooted into, the real init executed.
//
// pivot_root() is no option: the initramfs is the rootfs, which cannot be
// unmounted or pivoted away (EINVAL), hence MS_MOVE + chroot, as
// switch_root in busybox and util-linux do.
#pragma once

#include "context.h"

namespace imainit::boot
{

// Finds the real init in the new root (init= or /sbin/init), resolving its
// symlinks inside the new root; it must be an executable regular file,
// and with require_signed_init its security.ima must verify.
Status check_real_init(BootContext &ctx);

// Does not return on success.
Status switch_root(BootContext &ctx, int argc, char **argv, char **envp);

} // namespace imainit::boot
