#!/bin/bash
# Fault matrix: a certificate file that is there but empty (0 bytes).
#  1. /ima-init/trust.der, the payload trust anchor, replaced by an empty
#     file (an initrd unpacked over the built-in initramfs): the payload
#     cannot be verified, the configuration is unknown: halt.
#  2. etc/keys/x509_ima.der inside a payload that is correctly signed: the
#     packer refuses an empty certificate, so the payload is rebuilt with
#     payload-rebuild and signed again with the payload key. ima-init reads
#     the certificates before anything reaches a keyring: the configured
#     failure action (reboot), no key, no policy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
command -v evmctl >/dev/null || skip "evmctl not installed"
base_kernel
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"
unpack_cpio "$WORK/base.cpio" "$WORK/base"

qlog "1. empty trust anchor"
mkdir -p "$WORK/anchor/ima-init"
: >"$WORK/anchor/ima-init/trust.der"
make_cpio "$WORK/anchor" "$WORK/anchor.cpio"
qemu_boot "$WORK/anchor.log" --kernel "$BZIMAGE" --initrd "$WORK/anchor.cpio" \
	--drive "$WORK/rootfs.img" --append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_fault "payload: /ima-init/trust\.der is empty \(0 bytes\)" halt
expect_no_line "ima-init: .*payload (verified|extracted)" "nothing of the payload is used"

qlog "2. empty IMA certificate in a signed payload"
mkdir -p "$WORK/cert/ima-init"
"$QEMU_DIR/payload-rebuild" "$WORK/base/ima-init/payload.tar" "$WORK/cert/ima-init/payload.tar" \
	--content etc/keys/x509_ima.der /dev/null
sign_payload_tar "$WORK/cert/ima-init/payload.tar" "$WORK/cert/ima-init/payload.sig"
make_cpio "$WORK/cert" "$WORK/cert.cpio"
qemu_boot "$WORK/cert.log" --kernel "$BZIMAGE" --initrd "$WORK/cert.cpio" \
	--drive "$WORK/rootfs.img" --append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_line "ima-init: .*payload verified" "the re-signed payload itself is accepted"
expect_fault "prechecks: ima_cert etc/keys/x509_ima\.der is empty \(0 bytes\)" reboot
expect_no_line "ima-init: .*loaded into \.(ima|evm)" "no key is loaded"
expect_no_line "ima: policy update" "no policy is loaded"
qemu_done
