#!/bin/bash
# Scenario a, the happy path on the production shape: ima-init and its signed
# payload built into the kernel; our certificates land in the kernel-owned
# .ima/.evm keyrings, the signed policy is active (read back), the EVM mode is
# set, the real root's init runs and a signed program executes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --stop-on "$HALTED"
expect_qemu_exit 0
expect_line "ima-init: .*payload verified" "payload signature verified"
expect_line "ima-init: .*x509_ima.der loaded into \.ima" "IMA cert in the trusted .ima keyring"
expect_line "ima-init: .*x509_evm.der loaded into \.evm" "EVM cert in the trusted .evm keyring"
expect_line "ima-init: .*IMA policy .* loaded" "policy loaded"
expect_line "ima-init: .*policy read back" "policy read back from the kernel"
expect_line "ima-init: .*EVM mode 0x80000002" "EVM mode set"
expect_order "ima-init: .*IMA policy .* loaded" "ima-init: .*EVM mode 0x80000002"
expect_no_line "$INIT_FATAL" "no fatal error"
expect_line "$REAL_INIT" "the real root's init runs"
expect_line "IMA-TEST: key: .*keyring +\.ima: 1" ".ima holds one key, seen from the real root"
expect_line "IMA-TEST: key: .*keyring +\.evm: 1" ".evm holds one key, seen from the real root"
expect_line "IMA-TEST: policy: appraise func=POLICY_CHECK appraise_type=imasig" "custom policy active"
expect_line "IMA-TEST: policy: appraise func=BPRM_CHECK appraise_type=imasig" "custom policy appraises exec"
expect_line "IMA-TEST: evm: 2" "EVM in signature mode"
expect_line "IMA-TEST: exec /usr/bin/busybox-signed: ran" "a signed program executes"
expect_line "IMA-TEST: done"
expect_no_line "Kernel panic" "no kernel panic"
qemu_done
