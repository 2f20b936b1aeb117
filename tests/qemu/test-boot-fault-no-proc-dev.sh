#!/bin/bash
# Fault matrix, the case that must NOT fail: the real root has no /proc and
# no /dev directories to move ima-init's mounts to.
#  1. Mounted read-only (the default): the directories cannot be made, so
#     ima-init says so and unmounts /proc and /dev instead of moving them;
#     the real init runs (and mounts what it needs itself).
#  2. Mounted read-write (rw): ima-init creates them and moves the mounts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa --omit proc --omit dev "$WORK/ro.img"
cp "$WORK/ro.img" "$WORK/rw.img"
debugfs -R "ls -l /" "$WORK/ro.img" 2>/dev/null | grep -qwE "proc|dev" && fail "the image still has /proc or /dev"

qlog "1. read-only root"
qemu_boot "$WORK/ro.log" --kernel "$BZIMAGE" --drive "$WORK/ro.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_line "ima-init: .*root /dev/vda mounted on /root \(ext4, ro\)" "the root is mounted read-only"
expect_line "ima-init: .*no /root/proc in the real root .*: unmounting /proc instead of moving it" "no /proc: unmounted, not fatal"
expect_line "ima-init: .*no /root/dev in the real root .*: unmounting /dev instead of moving it" "no /dev: unmounted, not fatal"
expect_no_line "$INIT_FATAL" "no fatal error"
expect_line "ima-init: .*switching to the real root" "switch_root goes ahead"
expect_line "$REAL_INIT" "the real init runs"
expect_line "IMA-TEST: done" "and finishes"
expect_qemu_exit 0

qlog "2. read-write root"
qemu_boot "$WORK/rw.log" --kernel "$BZIMAGE" --drive "$WORK/rw.img" \
	--append "root=/dev/vda rw" --timeout 60 --stop-on "$HALTED"
expect_line "ima-init: .*root /dev/vda mounted on /root \(ext4, rw\)" "the root is mounted read-write"
expect_no_line "ima-init: .*in the real root .*unmounting" "the directories are made, the mounts moved"
expect_no_line "$INIT_FATAL" "no fatal error"
expect_line "$REAL_INIT" "the real init runs"
expect_line "IMA-TEST: root: /dev/vda / ext4 rw" "with /proc there (its /proc/mounts is read)"
expect_line "IMA-TEST: done" "and finishes"
expect_qemu_exit 0
qemu_done
