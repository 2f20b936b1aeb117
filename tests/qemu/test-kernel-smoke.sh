#!/bin/bash
# Validates the test kernel's configuration with nothing but busybox and the
# host's keyctl/setfattr in a built-in initramfs: the kernel facts ima-init
# relies on (trusted .ima/.evm keyrings, a cert from another CA refused,
# security.ima kept on tmpfs, policy loading by path with appraisal, EVM
# signature-only mode). It does not involve ima-init at all, so a failure here
# is a kernel configuration problem.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup

for tool in keyctl setfattr getfattr evmctl cpio; do
	command -v "$tool" >/dev/null || skip "$tool not installed"
done

R=$WORK/initramfs
busybox_initramfs "$R"
mkdir -p "$R"/{certs,policy}
cp "$KEYS/x509_ima.der" "$R/certs/x509_ima.der"
cp "$KEYS/x509_evm.der" "$R/certs/x509_evm.der"
cp "$KEYS/untrusted/x509_ima.der" "$R/certs/untrusted_ima.der"

# After this policy, every policy load must carry a valid IMA signature.
cat >"$R/policy/signed" <<'EOF'
appraise func=POLICY_CHECK appraise_type=imasig
measure func=POLICY_CHECK
EOF
echo "measure func=BPRM_CHECK" >"$R/policy/unsigned"
# cpio cannot carry xattrs: ship the signature as hex and set it in the guest.
# ECDSA signatures differ on every run, so the signature travels in an
# external initrd that the kernel unpacks over the built-in initramfs: the
# built-in one stays byte-identical and its relinked kernel is reused.
cp "$R/policy/signed" "$WORK/policy"
evmctl ima_sign --sigfile -a sha256 --key "$KEYS/privkey_ima.pem" "$WORK/policy" >/dev/null 2>&1 ||
	fail "evmctl could not sign the policy"
mkdir -p "$WORK/overlay/policy"
od -An -v -tx1 "$WORK/policy.sig" | tr -d ' \n' >"$WORK/overlay/policy/signed.sig"
[ -s "$WORK/overlay/policy/signed.sig" ] || fail "evmctl produced no policy signature"

cat >"$R/init" <<'EOF'
#!/bin/busybox sh
B=/bin/busybox
S=/sys/kernel/security
say() { $B echo "SMOKE: $*"; }
$B mount -t devtmpfs dev /dev
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t securityfs securityfs $S && say "securityfs mounted"
say "start"
$B grep -E 'keyring +\.(ima|evm|builtin_trusted_keys)' /proc/keys | $B sed 's/^/SMOKE: keyring: /'

load() {
	out=$(/usr/bin/keyctl padd asymmetric "" %keyring:$1 < $2 2>&1) && say "cert $2 loaded into $1 as key $out" ||
		say "cert $2 refused by $1: $out"
}
load .ima /certs/x509_ima.der
load .evm /certs/x509_evm.der
load .ima /certs/untrusted_ima.der
/usr/bin/keyctl show %keyring:.ima 2>&1 | $B sed 's/^/SMOKE: .ima: /'
/usr/bin/keyctl show %keyring:.evm 2>&1 | $B sed 's/^/SMOKE: .evm: /'

$B mount -t tmpfs tmp /mnt
$B cp /policy/signed /policy/unsigned /mnt/
sig=$($B cat /policy/signed.sig)
/usr/bin/setfattr -n security.ima -v 0x$sig /mnt/signed
got=$(/usr/bin/getfattr --only-values -n security.ima /mnt/signed 2>/dev/null | $B xxd -p | $B tr -d '\n')
[ -n "$sig" ] && [ "$got" = "$sig" ] && say "tmpfs keeps security.ima" || say "tmpfs lost security.ima: '$got'"

if out=$($B echo /mnt/signed 2>&1 > $S/ima/policy); then say "signed policy loaded"; else say "signed policy refused: $out"; fi
$B sed 's/^/SMOKE: active policy: /' $S/ima/policy
if out=$($B echo /mnt/unsigned 2>&1 > $S/ima/policy); then say "unsigned policy ACCEPTED"; else say "unsigned policy refused: $out"; fi

if out=$($B echo 0x80000002 2>&1 > $S/evm); then say "evm mode written"; else say "evm mode write failed: $out"; fi
say "evm reads back $($B cat $S/evm)"
if out=$($B echo 1 2>&1 > $S/evm); then say "evm rewrite ACCEPTED"; else say "evm rewrite refused: $out"; fi
# printk_devkmsg: the sysctl handler wants the trailing newline ("on\n");
# without it the write fails with EINVAL and /dev/kmsg stays rate limited
# (10 lines per 5 s), which loses an init's log lines.
if out=$($B echo -n on 2>&1 > /proc/sys/kernel/printk_devkmsg); then say "devkmsg 'on' without newline accepted, now $($B cat /proc/sys/kernel/printk_devkmsg)"; else say "devkmsg 'on' without newline refused: $out"; fi
if out=$($B echo on 2>&1 > /proc/sys/kernel/printk_devkmsg); then say "devkmsg 'on\n' accepted, now $($B cat /proc/sys/kernel/printk_devkmsg)"; else say "devkmsg 'on\n' refused: $out"; fi
say "done"
$B reboot -f
EOF
chmod 0755 "$R/init"
make_cpio "$R" "$WORK/smoke.cpio"
kernel_with "$WORK/smoke.cpio" "$WORK/bzImage"
make_cpio "$WORK/overlay" "$WORK/overlay.cpio"

qemu_boot "$WORK/serial.log" --kernel "$WORK/bzImage" --initrd "$WORK/overlay.cpio" --timeout 90
expect_qemu_exit 0
expect_line "Loaded X.509 cert '.*DEBUG ima-initramfs CA" "the test CA is built into the system keyring"
expect_line "SMOKE: securityfs mounted"
expect_line "SMOKE: keyring: .*keyring +\.ima:" ".ima keyring exists (kernel-owned)"
expect_line "SMOKE: keyring: .*keyring +\.evm:" ".evm keyring exists (kernel-owned)"
expect_line "SMOKE: cert /certs/x509_ima.der loaded into .ima as key [0-9]+" "IMA cert (signed by the CA) accepted by .ima"
expect_line "SMOKE: cert /certs/x509_evm.der loaded into .evm as key [0-9]+" "EVM cert (signed by the CA) accepted by .evm"
expect_line "SMOKE: cert /certs/untrusted_ima.der refused by .ima: .*(Required key not available|Key was rejected)" \
	"cert from the untrusted CA refused by .ima"
expect_line "SMOKE: .ima: .*asymmetric: " ".ima lists the loaded key"
expect_line "SMOKE: tmpfs keeps security.ima"
expect_line "SMOKE: signed policy loaded"
expect_line "SMOKE: active policy: appraise func=POLICY_CHECK appraise_type=imasig" "policy reads back"
expect_line "SMOKE: unsigned policy refused: .*Permission denied" "unsigned policy path refused with EACCES"
expect_line "SMOKE: evm mode written"
expect_line "SMOKE: evm reads back 2" "EVM mode X509 set"
expect_line "SMOKE: evm rewrite refused" "EVM setup complete locks the mode"
expect_line "SMOKE: devkmsg 'on' without newline refused: .*Invalid argument" "printk_devkmsg needs the trailing newline"
expect_line "SMOKE: devkmsg 'on.n' accepted, now on" "printk_devkmsg on"
expect_line "SMOKE: done"
expect_no_line "Kernel panic" "no kernel panic"
qemu_done
