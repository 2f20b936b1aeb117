#!/bin/bash
# Scenario e: a policy whose security.ima was made with a key that is not the
# IMA certificate's (the EVM key), in a payload that is otherwise correctly
# signed. ima-init checks the policy signature against the IMA cert in
# userspace and refuses with a clear message before the kernel sees either.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
command -v evmctl >/dev/null || skip "evmctl not installed"
base_kernel
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"

unpack_cpio "$WORK/base.cpio" "$WORK/base"
mkdir -p "$WORK/overlay/ima-init" "$WORK/x"
tar="$WORK/overlay/ima-init/payload.tar"
cp "$WORK/base/ima-init/payload.tar" "$tar"
tar -C "$WORK/x" -xf "$tar" etc/ima/ima-policy
# RSA-2048 signatures all have the same length, so the new value replaces the
# old one in place.
evmctl ima_sign --sigfile -a sha256 --key "$KEYS/rsa/privkey_evm.pem" "$WORK/x/etc/ima/ima-policy" \
	>/dev/null 2>&1 || fail "evmctl could not sign the policy"
"$QEMU_DIR/payload-edit" "$tar" xattr etc/ima/ima-policy security.ima "$WORK/x/etc/ima/ima-policy.sig"
# Re-sign the payload with the payload key, as a packer with the wrong
# policy key would have.
evmctl ima_sign --sigfile -a sha256 --key "$KEYS/rsa/privkey_ima.pem" "$tar" >/dev/null 2>&1 ||
	fail "evmctl could not sign the payload"
mv "$tar.sig" "$WORK/overlay/ima-init/payload.sig"
make_cpio "$WORK/overlay" "$WORK/overlay.cpio"

qemu_boot "$WORK/serial.log" --kernel "$BZIMAGE" --initrd "$WORK/overlay.cpio" \
	--drive "$WORK/rootfs.img" --append "root=/dev/vda" --stop-on "$HALTED"
expect_qemu_exit 0
expect_line "ima-init: .*payload verified" "the re-signed payload itself is accepted"
expect_fail_closed "prechecks: .*ima-policy.*" "the policy signature is refused in userspace"
expect_no_line "ima-init: .*IMA policy .* loaded" "the policy is not loaded"
expect_no_line "ima: policy update" "the kernel never sees the policy"
expect_line "ima-init: .*rebooting" "the configured failure action (reboot) is taken"
qemu_done
