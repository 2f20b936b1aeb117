#!/bin/bash
# Scenario h: root=UUID= and root=LABEL= are resolved by ima-init itself (the
# kernel cannot: both need a filesystem probe). This one runs on EC P-256
# keys throughout: the payload (in an initrd over the built-in one) carries
# the EC certificates and the rootfs is labelled with the EC keys.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
base_kernel
uuid=3d0c8a5e-6b1f-4c2a-9e7d-5a4b3c2d1e0f
label=ima-testroot
"$QEMU_DIR/make-rootfs" --uuid "$uuid" --label "$label" "$WORK/rootfs.img"
payload_overlay "$WORK/overlay.cpio" --policy "$TEST_POLICY" --ca "$KEYS/ima-local-ca.x509" \
	--key "$KEYS/privkey_ima.pem" --ima-cert "$KEYS/x509_ima.der" \
	--evm-key "$KEYS/privkey_evm.pem" --evm-cert "$KEYS/x509_evm.der" \
	"${PAYLOAD_DEFAULTS[@]}"

for spec in "UUID=$uuid" "LABEL=$label"; do
	echo "== root=$spec"
	qemu_boot "$WORK/serial-${spec%%=*}.log" --kernel "$BZIMAGE" --initrd "$WORK/overlay.cpio" \
		--drive "$WORK/rootfs.img" --append "root=$spec" --stop-on "$HALTED"
	expect_qemu_exit 0
	expect_line "ima-init: .*x509_ima.der loaded into \.ima .*X509\.ecdsa" "EC IMA cert in .ima"
	expect_line "ima-init: .*root device $spec is /dev/vda" "$spec found"
	expect_no_line "$INIT_FATAL" "no fatal error"
	expect_line "IMA-TEST: real init running .* from $label" "the real init of that filesystem runs"
	expect_line "IMA-TEST: exec /usr/bin/busybox-signed: ran" "an EC-signed program runs"
done
qemu_done
