#!/bin/bash
# Fault matrix: a kernel without IMA, EVM and securityfs (the kernel variant
# no-ima: build-kernel --variant no-ima) with the production initramfs built
# in. ima-init cannot mount securityfs, so it can neither load a policy nor
# set EVM: it stops. It stops only once the payload is verified and its
# signed configuration read, so that the failure action is the configured
# one (reboot here), not the default: on an A/B system a kernel update that
# lost IMA should fall back to the other slot, not sit halted.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_cpio "$WORK/base.cpio"
kernel_with "$WORK/base.cpio" "$WORK/bzImage" no-ima
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$WORK/bzImage" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_no_line "^\[ *[0-9.]+\] (ima|evm):" "the kernel has no IMA and no EVM"
expect_line "ima-init: .*payload extracted into /run/ima-init; failure action: reboot" \
	"the payload verifies and its configuration is read first"
expect_fault "securityfs: the kernel has no securityfs \(no /sys/kernel/security\): it was built without CONFIG_SECURITYFS, so without IMA and EVM" reboot
expect_no_line "ima-init: .*loaded into" "no key is loaded"
qemu_done
