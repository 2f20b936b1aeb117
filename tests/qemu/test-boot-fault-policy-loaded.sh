#!/bin/bash
# Fault matrix: an IMA policy was loaded before ima-init ran, and the kernel
# refuses a second load. That refusal exists only on a kernel without
# CONFIG_IMA_WRITE_POLICY (with it, a second policy is appended, by design:
# the production test kernel has it). Debian's stock kernel is such a kernel
# (CONFIG_IMA_WRITE_POLICY and CONFIG_IMA_READ_POLICY both off): after the
# first load it removes /sys/kernel/security/ima/policy altogether.
#
# Nothing runs before the /init of an initramfs, so the test puts an earlier
# stage there: a busybox /init that loads a one-rule policy and then execs
# ima-init (as PID 1). ima-init verifies its payload, loads its certificates
# (into _ima/_evm: this kernel has no .ima/.evm) and then finds the policy
# file gone: one FATAL line naming that, the configured failure action
# (reboot). The kernel is booted without ima_policy=secure_boot so that the
# earlier stage may write a rule as text.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/debian-lib.sh"
debian_setup
find_programs
debian_initrd "$WORK/initrd.cpio" "${DEBIAN_MODULES[@]}"
unpack_cpio "$WORK/initrd.cpio" "$WORK/initramfs"
cat >"$WORK/earlier-stage" <<'EOS'
#!/bin/busybox sh
# An earlier stage of early userspace: loads an IMA policy, then hands over.
B=/bin/busybox
$B mount -t sysfs sysfs /sys
$B mount -t securityfs securityfs /sys/kernel/security
echo "measure func=BPRM_CHECK" >/sys/kernel/security/ima/policy &&
	$B echo "EARLIER-STAGE: policy loaded"
[ -e /sys/kernel/security/ima/policy ] || $B echo "EARLIER-STAGE: the kernel removed the policy file"
$B umount /sys/kernel/security
$B umount /sys
exec /sbin/ima-init
EOS
busybox_wrapper "$WORK/initramfs" "$WORK/earlier-stage"
make_cpio "$WORK/initramfs" "$WORK/wrapped.cpio"

qemu_boot "$WORK/serial.log" --kernel "$DEBIAN_VMLINUZ" --initrd "$WORK/wrapped.cpio" \
	--append "root=/dev/vda" --timeout 180 --stop-on "$HALTED"
expect_line "ima: policy update completed" "the kernel took the earlier stage's policy"
expect_line "EARLIER-STAGE: the kernel removed the policy file" "and removed its policy file"
expect_line "ima-init: .*payload verified" "ima-init runs after it"
expect_line "ima-init: .*x509_ima\.der loaded into _ima" "its certificates load"
expect_fault "policy: /sys/kernel/security/ima/policy is gone: a policy was loaded before ima-init ran" reboot
expect_no_line "ima-init: .*IMA policy .* loaded" "its policy is not loaded"
qemu_done
