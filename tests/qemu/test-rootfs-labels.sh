#!/bin/bash
# The labels `ima-mkinitramfs sign` writes, as the kernel judges them, with no
# ima-init involved: a busybox /init loads the certificates, the curated
# policy appraise-exec-signed-policy and EVM mode 0x80000002 by hand, then
# switch_roots into a rootfs image labelled by make-rootfs. Signed programs
# must run; a program whose content, mode or owner changed after labelling
# must be denied. When this passes and a scenario fails, look at ima-init.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
MKINITRAMFS=${MKINITRAMFS:-${BUILDDIR:-$SRCDIR/build}/tools/mkinitramfs/ima-mkinitramfs}
[ -x "$MKINITRAMFS" ] || fail "no ima-mkinitramfs at $MKINITRAMFS"
export MKINITRAMFS

R=$WORK/initramfs
busybox_initramfs "$R"
mkdir -p "$R/etc"
# RSA keys: PKCS#1 v1.5 signatures are deterministic, so the built-in
# initramfs (and with it the relinked kernel) is the same on every run.
cp "$KEYS/rsa/x509_ima.der" "$R/etc/x509_ima.der"
cp "$KEYS/rsa/x509_evm.der" "$R/etc/x509_evm.der"
cp "$SRCDIR/policies/appraise-exec-signed-policy" "$R/etc/policy"
cp "$R/etc/policy" "$WORK/policy"
evmctl ima_sign --sigfile -a sha256 --key "$KEYS/rsa/privkey_ima.pem" "$WORK/policy" >/dev/null 2>&1 ||
	fail "evmctl could not sign the policy"
od -An -v -tx1 "$WORK/policy.sig" | tr -d ' \n' >"$R/etc/policy.sig"

cat >"$R/init" <<'EOF'
#!/bin/busybox sh
B=/bin/busybox
S=/sys/kernel/security
say() { $B echo "LABELS: $*"; }
die() { say "FAILED: $*"; $B reboot -f; }
$B mount -t devtmpfs dev /dev
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t securityfs securityfs $S
/usr/bin/keyctl padd asymmetric "" %keyring:.ima </etc/x509_ima.der >/dev/null || die "ima cert"
/usr/bin/keyctl padd asymmetric "" %keyring:.evm </etc/x509_evm.der >/dev/null || die "evm cert"
$B mount -t tmpfs tmp /mnt
$B cp /etc/policy /mnt/policy
/usr/bin/setfattr -n security.ima -v 0x$($B cat /etc/policy.sig) /mnt/policy || die "setfattr"
$B echo /mnt/policy >$S/ima/policy || die "policy load"
$B echo 0x80000002 >$S/evm || die "evm mode"
say "keys, policy and evm mode set"
n=0
until $B mount -t ext4 -o ro /dev/vda /newroot 2>/dev/null; do
	n=$((n + 1))
	[ $n -lt 50 ] || die "no /dev/vda"
	$B sleep 0.1
done
$B mount --move /dev /newroot/dev
$B mount --move /proc /newroot/proc
$B mount --move /sys /newroot/sys
exec $B switch_root /newroot /sbin/init
EOF
chmod 0755 "$R/init"
make_cpio "$R" "$WORK/initramfs.cpio"
kernel_with "$WORK/initramfs.cpio" "$WORK/bzImage"
"$QEMU_DIR/make-rootfs" --rsa --tamper content --tamper mode --tamper owner "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$WORK/bzImage" --drive "$WORK/rootfs.img" --timeout 90
expect_qemu_exit 0
expect_line "LABELS: keys, policy and evm mode set"
expect_no_line "LABELS: FAILED" "the busybox /init did all its steps"
expect_line "IMA-TEST: real init running" "the labelled /sbin/init (a #! script) and its interpreter pass appraisal"
expect_line "IMA-TEST: evm: 2" "EVM mode as set"
expect_line "IMA-TEST: policy: appraise func=BPRM_CHECK appraise_type=imasig" "policy active"
expect_line "IMA-TEST: exec /usr/bin/busybox-signed: ran" "signed program runs"
expect_line "IMA-TEST: exec /usr/bin/busybox-tampered-content: denied: .*Permission denied" "content changed after labelling: denied"
expect_line "IMA-TEST: exec /usr/bin/busybox-tampered-mode: denied: .*Permission denied" "mode changed after labelling: denied (EVM)"
expect_line "IMA-TEST: exec /usr/bin/busybox-tampered-owner: denied: .*Permission denied" "owner changed after labelling: denied (EVM)"
expect_line "IMA-TEST: done"
expect_no_line "Kernel panic" "no kernel panic"
qemu_done
