#!/bin/bash
# Scenario c: EVM. Programs whose mode or owner changed after labelling keep
# a valid security.ima, but their portable security.evm signature covers
# mode, uid and gid: with EVM in signature mode their exec is denied.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa --tamper mode --tamper owner "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --stop-on "$HALTED"
expect_qemu_exit 0
expect_no_line "$INIT_FATAL" "ima-init has no complaint"
expect_line "IMA-TEST: evm: 2" "EVM in signature mode"
expect_line "IMA-TEST: exec /usr/bin/busybox-tampered-mode: denied: .*Permission denied" \
	"mode changed after labelling: denied"
expect_line "IMA-TEST: exec /usr/bin/busybox-tampered-owner: denied: .*Permission denied" \
	"owner changed after labelling: denied"
expect_line "IMA-TEST: exec /usr/bin/busybox-signed: ran" "the signed program still runs"
expect_line "IMA-TEST: done"
qemu_done
