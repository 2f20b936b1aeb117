# Helpers of the boot tests on Debian's stock kernel (test-debian-*.sh):
# sourced after lib.sh, not run.
#
# Debian's kernel has no built-in initramfs and no trusted .ima/.evm
# keyrings (CONFIG_INTEGRITY_TRUSTED_KEYRING is off), its virtio and ext4
# drivers are modules, and it boots here with an external initrd (qemu
# -initrd) holding ima-init and a payload that carries those modules,
# signed.

# The kernel's own policies: secure_boot demands signed modules, firmware,
# kexec kernels and policies; appraise_tcb appraises what root owns.
# ima_appraise defaults to enforce. Audit records reach the console through
# printk_ratelimit() (10 per 5 s), which the 22 records of a policy load use
# up: raise its burst so that the records of the module loads show.
DEBIAN_APPEND="root=/dev/vda ima_policy=secure_boot ima_policy=appraise_tcb"
DEBIAN_APPEND+=" sysctl.kernel.printk_ratelimit_burst=200"
# What the real root needs of Debian's modules: the PCI transport of virtio,
# the disk, and ext4 (crc32c for its metadata checksums: only a soft
# dependency, which modules.dep does not list).
# shellcheck disable=SC2034
DEBIAN_MODULES=(--module virtio_pci --module virtio_blk --module crc32c_generic --module ext4)

# Sets WORK (like qemu_setup, without the tinyconfig kernel), DEBIAN_CACHE,
# DEBIAN_VMLINUZ and DEBIAN_MODDIR.
debian_setup() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	[ "$(id -u)" -eq 0 ] || skip "needs root (mknod, unshare -m for labelling)"
	command -v depmod >/dev/null || skip "depmod not installed (kmod)"
	local b=${BUILDDIR:-$SRCDIR/build}
	[ -x "${IMA_INIT:-$b/init/ima-init.stripped}" ] || skip "ima-init is not built"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/ima-qemu.XXXXXX")
	trap qemu_cleanup EXIT
	DEBIAN_CACHE=$("$QEMU_DIR/debian-kernel" | tail -n1) || fail "cannot get Debian's kernel"
	[ -f "$DEBIAN_CACHE/complete" ] || fail "no complete Debian kernel in '$DEBIAN_CACHE'"
	DEBIAN_VMLINUZ=$DEBIAN_CACHE/vmlinuz
	DEBIAN_MODDIR=$DEBIAN_CACHE/root/lib/modules/$(cat "$DEBIAN_CACHE/release")
	qlog "Debian kernel $(cat "$DEBIAN_CACHE/release") from $DEBIAN_CACHE"
	# shellcheck disable=SC2034 # read by qemu_done
	TEST_START=$(date +%s)
}

# The policy ima-init loads (signed, by path): the secure_boot rules for
# modules, firmware, kexec and policies first (before the tmpfs exclusion,
# which would exempt the payload), then appraisal of programs on the real
# root; modules are measured (ima-sig template: with their signature) and
# audited.
debian_policy() {
	{
		cat "$SRCDIR/policies/appraise-modules-firmware"
		cat "$SRCDIR/policies/appraise-exec-signed-policy"
		printf '%s\n' "# Evidence of the module loads: the measurement list and the audit log." \
			"measure func=MODULE_CHECK" "audit func=MODULE_CHECK"
	} >"$1"
}

# debian_initrd OUT [build options...]: ima-init, the signed policy, the RSA
# debug keys (the kernel has ECDSA only as a module) in the unprotected
# _ima/_evm keyrings that this kernel looks up, and whatever modules the
# options add.
debian_initrd() {
	local out=$1
	shift
	debian_policy "$WORK/policy"
	mkinitramfs_build "$out" --init "$IMA_INIT" --policy "$WORK/policy" \
		"${RSA_SIGNING[@]}" "${PAYLOAD_SIGNING[@]}" "${PAYLOAD_DEFAULTS[@]}" \
		--allow-untrusted-keyring --kernel-modules "$DEBIAN_MODDIR" "$@"
}

# debian_rootfs OUT: an ext4 image labelled with the RSA debug keys whose
# init reports, from the real root, the loaded modules, the keyrings and the
# IMA measurements of the modules, then reboots. busybox-static is its
# userspace.
debian_rootfs() {
	local out=$1 tree=$WORK/rootfs-tree
	cat >"$WORK/rootfs-init" <<'EOF'
#!/bin/busybox sh
B=/bin/busybox
S=/sys/kernel/security
say() { $B echo "IMA-TEST: $*"; }
say "real init running as pid $$ from the Debian test root"
[ -e /proc/self ] || $B mount -t proc proc /proc
[ -e /sys/kernel ] || $B mount -t sysfs sys /sys
[ -e $S/ima ] || $B mount -t securityfs securityfs $S
say "root: $($B grep ' / ' /proc/mounts | $B tail -n1)"
say "kernel: $($B uname -r)"
say "modules: $($B cut -d' ' -f1 /proc/modules | $B sort | $B tr '\n' ' ')"
say "evm: $($B cat $S/evm)"
$B grep -E 'keyring +_(ima|evm):|asymmetric' /proc/keys | $B sed 's/^/IMA-TEST: key: /'
$B grep ' /run/ima-init/lib/modules/' $S/ima/ascii_runtime_measurements |
	while read -r pcr thash tmpl fhash path sig; do
		say "measured: pcr $pcr $tmpl $fhash $path sig $(echo "$sig" | $B cut -c1-18)..."
	done
say "measurements: $($B wc -l <$S/ima/ascii_runtime_measurements) entries"
if out=$(/usr/bin/busybox-signed echo EXEC-OK 2>&1) && [ "$out" = EXEC-OK ]; then
	say "exec /usr/bin/busybox-signed: ran"
else
	say "exec /usr/bin/busybox-signed: denied: $out"
fi
say "done"
$B sync
$B reboot -f
EOF
	# shellcheck disable=SC2016 # expanded by the inner shell
	MKINITRAMFS=$MKINITRAMFS KEYS=$KEYS unshare -m --propagation private bash -euo pipefail -c '
		tree=$1 out=$2 init=$3
		mkdir -p "$tree"
		mount -t tmpfs -o mode=0755 debian-rootfs "$tree"
		mkdir -p "$tree"/{bin,sbin,usr/bin,dev,proc,sys,run,tmp}
		cp /bin/busybox "$tree/bin/busybox"
		ln -s busybox "$tree/bin/sh"
		cp /bin/busybox "$tree/usr/bin/busybox-signed"
		install -m 0755 "$init" "$tree/sbin/init"
		"$MKINITRAMFS" sign --quiet --evm --key "$KEYS/rsa/privkey_ima.pem" \
			--cert "$KEYS/rsa/x509_ima.der" --evm-key "$KEYS/rsa/privkey_evm.pem" \
			--evm-cert "$KEYS/rsa/x509_evm.der" --allow-debug-keys "$tree"
		rm -f "$out"
		mke2fs -q -F -t ext4 -b 4096 -I 256 -L debroot -E root_owner=0:0 -d "$tree" "$out" 32M
		umount "$tree"
	' _ "$tree" "$out" "$WORK/rootfs-init" || fail "cannot make the Debian test root"
	rmdir "$tree"
	# mke2fs -d drops xattrs it cannot copy without a word.
	debugfs -R "ea_list /sbin/init" "$out" 2>/dev/null | grep -q security.evm ||
		fail "the test root's /sbin/init has no security.evm"
}

# debian_boot LOG INITRD [run options...]: boots Debian's kernel with the
# test root as /dev/vda.
debian_boot() {
	local log=$1 initrd=$2
	shift 2
	qemu_boot "$log" --kernel "$DEBIAN_VMLINUZ" --initrd "$initrd" \
		--drive "$WORK/rootfs.img" --append "$DEBIAN_APPEND" "$@"
}

# resign_payload DIR: after an edit of DIR/ima-init/payload.tar, the payload
# signature a packer holding the payload key would have written.
resign_payload() {
	local tar=$1/ima-init/payload.tar
	command -v evmctl >/dev/null || skip "evmctl not installed"
	evmctl ima_sign --sigfile -a sha256 --key "$KEYS/rsa/privkey_ima.pem" "$tar" >/dev/null 2>&1 ||
		fail "evmctl could not sign $tar"
	mv "$tar.sig" "$1/ima-init/payload.sig"
}
