#!/bin/bash
# Debian's stock kernel (unmodified, from its package) with
# ima_policy=secure_boot ima_policy=appraise_tcb and an external initrd:
# ima-init loads the certificates into the unprotected _ima/_evm keyrings
# (the signed configuration allows it), the signed policy, then virtio and
# ext4 with their dependencies from the payload with finit_module(); the
# kernel appraises each against its security.ima, measures and audits it;
# the real root mounts and its init runs and reports the measurements.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/debian-lib.sh"
debian_setup
find_programs
debian_rootfs "$WORK/rootfs.img"
debian_initrd "$WORK/initrd.cpio" "${DEBIAN_MODULES[@]}"

qemu_boot_start=$(date +%s)
debian_boot "$WORK/serial.log" "$WORK/initrd.cpio" --timeout 240
qlog "boot to the real root and its reboot: $(($(date +%s) - qemu_boot_start)) s"
expect_qemu_exit 0
expect_line "Command line: .*ima_policy=secure_boot ima_policy=appraise_tcb" "kernel booted with secure_boot + appraise_tcb"
expect_line "ima-init: .*payload verified" "payload signature verified"
expect_line "ima-init: .*WARNING: the kernel has no \.ima keyring; using _ima .*NOT kernel-protected" \
	"loud warning: _ima is not kernel-protected"
expect_line "ima-init: .*x509_ima.der loaded into _ima" "IMA cert in _ima"
expect_line "ima-init: .*x509_evm.der loaded into _evm" "EVM cert in _evm"
expect_line "ima-init: .*IMA policy .* loaded" "signed policy loaded (POLICY_CHECK appraised it)"
expect_line "ima-init: .*module signatures checked \(11 modules\)" "11 module signatures checked in userspace"
EXPECT_SHOW=11 expect_line "ima-init: .*module lib/modules/[a-z0-9_]+\.ko loaded" "modules loaded with finit_module"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk \
	crc32c_generic jbd2 mbcache crc16 ext4; do
	grep -aqE "ima-init: .*module lib/modules/$m\.ko loaded" "$LOG" || fail "module $m not loaded"
done
expect_order "module lib/modules/virtio_ring\.ko loaded" "module lib/modules/virtio\.ko loaded"
expect_order "module lib/modules/virtio\.ko loaded" "module lib/modules/virtio_blk\.ko loaded"
expect_order "module lib/modules/jbd2\.ko loaded" "module lib/modules/ext4\.ko loaded"
expect_order "ima-init: .*loaded into _ima" "ima-init: .*module lib/modules/virtio_ring\.ko loaded"
expect_line "ima-init: .*11 of 11 modules loaded" "all modules loaded"
n=$(grep -acE 'audit: type=1805 .*file="/run/ima-init/lib/modules/[a-z0-9_]+\.ko" hash="sha256:' "$LOG" || true)
[ "$n" -eq 11 ] || fail "expected 11 audit records (INTEGRITY_RULE) of module loads, got $n"
EXPECT_SHOW=1 expect_line 'audit: type=1805 .*file="/run/ima-init/lib/modules/ext4\.ko" hash="sha256:' \
	"audit log: the kernel audited each of the 11 module loads (INTEGRITY_RULE), e.g. ext4.ko"
expect_no_line "IMA-signature-required|invalid-signature|no _ima keyring|no _evm keyring" \
	"no appraisal failure, keyrings found"
expect_no_line "$INIT_FATAL" "no fatal error"
expect_line "$REAL_INIT" "the real root's init runs"
expect_line "IMA-TEST: root: /dev/vda / ext4" "root is ext4 on virtio-blk"
expect_line "IMA-TEST: modules: .*ext4 .*virtio_blk" "ext4 and virtio_blk are loaded, seen from the real root"
expect_line "IMA-TEST: key: .*keyring +_ima: 1" "_ima holds the certificate"
expect_line "IMA-TEST: key: .*keyring +_evm: 1" "_evm holds the certificate"
expect_line "IMA-TEST: evm: 2" "EVM in signature mode"
EXPECT_SHOW=11 expect_line "IMA-TEST: measured: pcr 10 ima-sig sha256:[0-9a-f]{64} /run/ima-init/lib/modules/ext4\.ko sig 030204" \
	"IMA measurement list: ext4.ko with its digsig v2 signature"
n=$(grep -acE "IMA-TEST: measured: .*/lib/modules/.* sig 030204" "$LOG" || true)
[ "$n" -eq 11 ] || fail "expected 11 measured modules with signatures, got $n"
echo "ok: 11 modules in the measurement list, each with its signature"
expect_line "IMA-TEST: exec /usr/bin/busybox-signed: ran" "a signed program runs on the real root"
expect_no_line "Kernel panic" "no kernel panic"
qemu_done
