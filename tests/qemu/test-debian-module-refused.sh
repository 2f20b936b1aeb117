#!/bin/bash
# Debian's stock kernel: a correctly signed module that the kernel still
# refuses. virtio_blk.ko is packed by its file (--module FILE), so without
# the virtio and virtio_ring it depends on; its signature passes ima-init's
# check, then finit_module() fails with ENOENT (unknown symbols). ima-init
# names the module, says what the errno means, and, the module being
# required, fails closed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/debian-lib.sh"
debian_setup
find_programs
debian_rootfs "$WORK/rootfs.img"
debian_initrd "$WORK/initrd.cpio" --module ext4 \
	--module "$DEBIAN_MODDIR/kernel/drivers/block/virtio_blk.ko" --module crc32c_generic

debian_boot "$WORK/serial.log" "$WORK/initrd.cpio" --timeout 240
expect_qemu_exit 0
expect_line "ima-init: .*module signatures checked" "its signature passes the userspace check"
expect_line "ima-init: .*module lib/modules/ext4\.ko loaded" "the modules before it load"
expect_line "virtio_blk: Unknown symbol" "the kernel refuses it: unknown symbols"
expect_fail_closed "modules: module lib/modules/virtio_blk\.ko: unknown symbol: a module it depends on is not loaded .*: No such file or directory" \
	"ima-init names the module and explains ENOENT"
expect_no_line "ima-init: .*module lib/modules/crc32c_generic\.ko loaded" \
	"nothing is loaded after a required module failed"
expect_line "ima-init: .*rebooting" "the configured failure action (reboot) is taken"
qemu_done
