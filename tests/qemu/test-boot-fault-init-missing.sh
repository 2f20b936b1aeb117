#!/bin/bash
# Fault matrix: the real root mounts but has no /sbin/init. ima-init checks
# for the init before it destroys the initramfs, so it can still stop with
# the configured failure action (reboot) instead of a kernel panic.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa --omit sbin/init "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_line "ima-init: .*root /dev/vda mounted on /root" "the real root mounts"
expect_fault "init: init /sbin/init does not exist in the real root \(/dev/vda\)" reboot
qemu_done
