#!/bin/bash
# Scenario g: the root device named on the command line never appears.
# ima-init waits as long as rootwait= says (capped by the signed root_wait),
# says what it waited for, then fails closed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"
missing=0badc0de-0000-4000-8000-000000000000

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --drive "$WORK/rootfs.img" \
	--append "root=UUID=$missing rootwait=3" --stop-on "$HALTED"
expect_qemu_exit 0
expect_line "ima-init: .*EVM mode 0x80000002" "keys, policy and EVM are set up first"
expect_line "ima-init: .*waiting up to 3 s for root device .*$missing" "says what it waits for"
expect_fail_closed "root: .*$missing.*did not appear within 3 s" "gives up after the timeout"
expect_line "ima-init: .*rebooting" "the configured failure action (reboot) is taken"
# It really waited: the search starts after the EVM step (ima-init's clock
# starts before its first "waiting" line, which a loaded host can delay), so
# the kernel timestamps of the EVM line and the fatal one are >= 3 s apart.
t0=$(grep -a "ima-init: .*EVM mode 0x80000002" "$LOG" | head -n1 | sed -E 's/^\[ *([0-9.]+)\].*/\1/')
t1=$(grep -aE "$INIT_FATAL" "$LOG" | head -n1 | sed -E 's/^\[ *([0-9.]+)\].*/\1/')
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 2.9) }' ||
	fail "waited only from $t0 to $t1"
echo "ok: waited from ${t0}s to ${t1}s"
qemu_done
