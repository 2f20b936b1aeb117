#!/bin/bash
# Scenario d: the payload changed after signing (one byte of the policy in
# payload.tar, the signature left as it was). ima-init refuses it before
# extracting anything, before the configuration is known, so it takes the
# default failure action: halt. The real init never runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"

# The built-in payload, changed, in an initrd the kernel unpacks over the
# built-in initramfs: payload.tar is replaced, payload.sig stays.
unpack_cpio "$WORK/base.cpio" "$WORK/base"
mkdir -p "$WORK/overlay/ima-init"
cp "$WORK/base/ima-init/payload.tar" "$WORK/overlay/ima-init/payload.tar"
"$QEMU_DIR/payload-edit" "$WORK/overlay/ima-init/payload.tar" content etc/ima/ima-policy \
	"appraise func=BPRM_CHECK" "appraise func=FILE_CHECK"
cmp -s "$WORK/base/ima-init/payload.tar" "$WORK/overlay/ima-init/payload.tar" && fail "payload unchanged"
make_cpio "$WORK/overlay" "$WORK/overlay.cpio"

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --initrd "$WORK/overlay.cpio" \
	--drive "$WORK/rootfs.img" --append "root=/dev/vda" --stop-on "$HALTED"
expect_qemu_exit 125
expect_fail_closed "payload: .*(signature|verif)" "ima-init refuses the payload signature"
expect_no_line "ima-init: .*payload verified" "the payload is not accepted"
expect_no_line "ima-init: .*payload extracted" "nothing is extracted"
expect_no_line "ima-init: .*loaded into \.(ima|evm)" "no key is loaded"
expect_no_line "ima: policy update" "no policy is loaded"
expect_line "ima-init: .*halting" "failure action: halt (the configuration is not trusted yet)"
expect_line "$HALTED" "the kernel halts"
qemu_done
