#!/bin/sh
# /init of the boot benchmark's shell baseline: IMA/EVM set up the way shell
# initramfs modules do it today (dracut's 98integrity, meta-integrity's
# initramfs-framework-ima, NixOS's boot.ima), with busybox, keyctl and
# evmctl. Same work as ima-init and the floor: the same certificates into the
# kernel's .ima/.evm keyrings, the same policy path and EVM mode, the same
# root, switch_root. Like those modules it verifies no payload (a cpio has
# nothing to verify with) and does not stop when a step fails.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
# Only ever as PID 1 of the benchmark's guest.
[ $$ = 1 ] || exit 1

mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t securityfs -o nosuid,nodev,noexec securityfs /sys/kernel/security

# The kernel owns the trusted keyrings: their ids only show in /proc/keys.
ima_ring=$(awk '$8 == "keyring" && $9 == ".ima:" { print "0x" $1 }' /proc/keys)
evm_ring=$(awk '$8 == "keyring" && $9 == ".evm:" { print "0x" $1 }' /proc/keys)
# meta-integrity style for the IMA certificate, dracut style for the EVM one.
keyctl padd asymmetric "" "$ima_ring" </etc/keys/x509_ima.der >/dev/null
evmctl import /etc/keys/x509_evm.der "$evm_ring" >/dev/null 2>&1

echo /etc/ima/ima-policy >/sys/kernel/security/ima/policy
echo 0x80000002 >/sys/kernel/security/evm

root=/dev/vda fstype=auto opts=rw
for w in $(cat /proc/cmdline); do
	case "$w" in
	root=*) root=${w#root=} ;;
	rootfstype=*) fstype=${w#rootfstype=} ;;
	ro) opts=ro ;;
	esac
done
mount -t "$fstype" -o "$opts" "$root" /root
for m in /dev /proc /sys; do
	mount --move $m /root$m
done
exec switch_root /root /sbin/init
