#!/bin/bash
# Fault matrix: require_signed_init (packer --require-signed-init) and a real
# root whose /sbin/init has no security.ima. ima-init checks the signature
# itself, before switch_root, with the IMA certificate of the payload: the
# initramfs is still there, so it stops with the configured failure action
# (reboot) rather than leaving the verdict to the kernel's appraisal at
# exec time, after the initramfs is gone.
#
# First the same kernel boots a root whose init is signed: the option lets
# a signed init through, so the refusal below is about the signature.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_cpio "$WORK/signed-init.cpio" --require-signed-init
kernel_with "$WORK/signed-init.cpio" "$WORK/bzImage"
"$QEMU_DIR/make-rootfs" --rsa "$WORK/signed.img"
"$QEMU_DIR/make-rootfs" --rsa --unsigned sbin/init "$WORK/unsigned.img"

qlog "1. signed /sbin/init"
qemu_boot "$WORK/signed.log" --kernel "$WORK/bzImage" --drive "$WORK/signed.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_line "ima-init: .*init /sbin/init: signature verified" "the signed init passes the check"
expect_line "$REAL_INIT" "and runs"
expect_no_line "$INIT_FATAL" "no fatal error"

qlog "2. unsigned /sbin/init"
qemu_boot "$WORK/unsigned.log" --kernel "$WORK/bzImage" --drive "$WORK/unsigned.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_line "ima-init: .*root /dev/vda mounted on /root" "the real root mounts"
expect_fault "init: init /sbin/init has no security\.ima signature" reboot
qemu_done
