#!/bin/bash
# Fault matrix: EVM already set up when ima-init runs. Nothing runs before
# the /init of a built-in initramfs, so the test puts an earlier stage there:
# a busybox /init that writes to /sys/kernel/security/evm and then execs
# ima-init, which so runs as PID 1, as after a first stage handing over.
# EVM_SETUP_COMPLETE (bit 31) makes the kernel refuse every later write with
# EPERM.
#  1. The earlier stage wrote 0x80000000: EVM stays off but is locked (bit
#     31 alone: "disable further runtime modification").
#  2. The earlier stage wrote 0x80000002, what ima-init itself writes: EVM
#     is on (signatures) and locked before ima-init loaded the EVM key. The
#     payload still extracts (tmpfs) and the keys and the policy load.
# Either way ima-init gets to the EVM step, whose write the kernel refuses
# with EPERM: one FATAL line saying so, and the configured failure action
# (reboot). ima-init never boots a system whose EVM mode it did not set.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"
base_cpio "$WORK/base.cpio"

# wrapper_kernel VALUE OUT_BZIMAGE
wrapper_kernel() {
	local value=$1 dir=$WORK/initramfs-$1
	unpack_cpio "$WORK/base.cpio" "$dir"
	cat >"$WORK/earlier-stage-$value" <<EOS
#!/bin/busybox sh
# An earlier stage of early userspace: sets EVM up, then hands over.
B=/bin/busybox
\$B mount -t sysfs sysfs /sys
\$B mount -t securityfs securityfs /sys/kernel/security
echo $value >/sys/kernel/security/evm && \$B echo "EARLIER-STAGE: wrote $value to evm, it reads \$(\$B cat /sys/kernel/security/evm)"
\$B umount /sys/kernel/security
\$B umount /sys
exec /sbin/ima-init
EOS
	busybox_wrapper "$dir" "$WORK/earlier-stage-$value"
	make_cpio "$dir" "$WORK/wrapper-$value.cpio"
	kernel_with "$WORK/wrapper-$value.cpio" "$2"
}

qlog "1. EVM locked off (0x80000000) before ima-init"
wrapper_kernel 0x80000000 "$WORK/bzImage-locked"
qemu_boot "$WORK/locked.log" --kernel "$WORK/bzImage-locked" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_line "EARLIER-STAGE: wrote 0x80000000 to evm, it reads 0" "the earlier stage locked EVM (the kernel shows 0)"
expect_line "ima-init: .*ima-init .* starting" "ima-init runs after it"
expect_line "ima-init: .*IMA policy .* loaded" "keys and policy load as usual"
expect_fault "evm: writing 0x80000002 to /sys/kernel/security/evm: EVM already set up" reboot

qlog "2. EVM on and locked (0x80000002) before ima-init"
wrapper_kernel 0x80000002 "$WORK/bzImage-on"
qemu_boot "$WORK/on.log" --kernel "$WORK/bzImage-on" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_line "EARLIER-STAGE: wrote 0x80000002 to evm, it reads 2" "the earlier stage set EVM up"
expect_line "ima-init: .*payload extracted" "the payload extracts all the same"
expect_line "ima-init: .*IMA policy .* loaded" "keys and policy load as usual"
expect_fault "evm: writing 0x80000002 to /sys/kernel/security/evm: EVM already set up" reboot
qemu_done
