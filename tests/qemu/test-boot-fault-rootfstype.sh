#!/bin/bash
# Fault matrix: the root filesystem does not mount because rootfstype= names
# the wrong types: ext2 (which the ext4 driver serves, and refuses for an
# ext4 volume with extents) and vfat (which this kernel does not have). Each
# type's reason is in the one FATAL line, with what the device holds (probed
# only then); the configured failure action (reboot) follows.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda rootfstype=ext2,vfat" --timeout 60 --stop-on "$HALTED"
expect_line "ima-init: .*root device /dev/vda is /dev/vda[[:space:]]*$" "the device is found (not probed: rootfstype= is given)"
expect_fault "root: cannot mount /dev/vda \(libblkid: ext4\) on /root: ext2: .*; vfat: the kernel does not support this filesystem type" reboot
qemu_done
