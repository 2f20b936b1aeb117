#!/bin/bash
# Fault matrix: the built-in initramfs has payload.tar but no payload.sig.
# Nothing is read from the payload before it verifies, so the configuration
# is not known yet: ima-init takes the default failure action, halt.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_cpio "$WORK/base.cpio"
unpack_cpio "$WORK/base.cpio" "$WORK/initramfs"
rm "$WORK/initramfs/ima-init/payload.sig"
[ -f "$WORK/initramfs/ima-init/payload.tar" ] || fail "the initramfs has no payload.tar"
make_cpio "$WORK/initramfs" "$WORK/nosig.cpio"
kernel_with "$WORK/nosig.cpio" "$WORK/bzImage"
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$WORK/bzImage" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_fault "payload: /ima-init/payload\.sig is missing from the initramfs" halt
expect_no_line "ima-init: .*payload (verified|extracted)" "nothing of the payload is used"
qemu_done
