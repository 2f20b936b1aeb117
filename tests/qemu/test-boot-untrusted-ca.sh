#!/bin/bash
# Scenario f: the IMA certificate is signed by a CA the kernel does not trust
# (keys/debug/untrusted). The payload names no CA for a userspace check, so
# the kernel's .ima keyring is what refuses the certificate; ima-init
# explains the add_key error and stops, fail-closed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"
payload_overlay "$WORK/overlay.cpio" --policy "$TEST_POLICY" \
	--key "$KEYS/untrusted/privkey_ima.pem" --ima-cert "$KEYS/untrusted/x509_ima.der" \
	--evm-key "$KEYS/rsa/privkey_evm.pem" --evm-cert "$KEYS/rsa/x509_evm.der" \
	"${PAYLOAD_DEFAULTS[@]}"

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --initrd "$WORK/overlay.cpio" \
	--drive "$WORK/rootfs.img" --append "root=/dev/vda" --stop-on "$HALTED"
expect_qemu_exit 0
expect_line "ima-init: .*payload verified" "the payload itself is fine"
expect_fail_closed "keys: loading x509_ima.der .*into \.ima: " "the kernel refuses the certificate"
expect_line "ima-init: .*FATAL: keys: .*(trusted|CA|issuer)" "the add_key error is explained"
expect_no_line "ima-init: .*loaded into \.ima" "nothing in .ima"
expect_no_line "ima: policy update" "no policy is loaded"
expect_line "ima-init: .*rebooting" "the configured failure action (reboot) is taken"
qemu_done
