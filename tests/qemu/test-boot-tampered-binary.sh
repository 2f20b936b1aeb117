#!/bin/bash
# Scenario b: a rootfs program whose content changed after labelling. IMA
# denies its exec (the signature no longer matches); everything else boots.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa --tamper content "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --stop-on "$HALTED"
expect_qemu_exit 0
expect_no_line "$INIT_FATAL" "ima-init has no complaint"
expect_line "$REAL_INIT" "the real root's init runs"
expect_line "IMA-TEST: exec /usr/bin/busybox-tampered-content: denied: .*Permission denied" \
	"the program changed after labelling is denied"
expect_line "IMA-TEST: exec /usr/bin/busybox-signed: ran" "the signed program still runs"
expect_line "IMA-TEST: done" "the rest of the boot is fine"
expect_no_line "Kernel panic" "no kernel panic"
qemu_done
