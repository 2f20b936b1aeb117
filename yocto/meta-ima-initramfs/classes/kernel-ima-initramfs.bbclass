# Kernel configuration for ima-init, for a kernel recipe:
#
#   inherit kernel-ima-initramfs
#
# (the layer's linux-yocto%.bbappend does this with 'ima' in
# DISTRO_FEATURES; write the same line in a bbappend for another kernel).
#
# Merges recipes-kernel/linux/files/ima-initramfs.cfg, the one IMA/EVM
# fragment that the project's own QEMU tests build their kernel with, puts
# IMA_EVM_ROOT_CA into CONFIG_SYSTEM_TRUSTED_KEYS, and fails the build when
# Kconfig dropped any requested option for want of a dependency: a kernel
# without them would boot with ima-init refusing to go on (fail-closed), or
# worse, a kernel without IMA would appraise nothing.
#
# Bundling the initramfs is kernel.bbclass's job (INITRAMFS_IMAGE,
# INITRAMFS_IMAGE_BUNDLE; see README.md).

inherit ima-initramfs-base

FILESEXTRAPATHS:prepend := "${IMA_INITRAMFS_LAYERDIR}/recipes-kernel/linux/files:"
SRC_URI += "file://ima-initramfs.cfg"
# extract-cert (CONFIG_SYSTEM_TRUSTED_KEYS) links libcrypto; openssl also
# turns a DER CA into the PEM that extract-cert reads.
DEPENDS += "openssl-native"

# UNPACKDIR exists from styhead on; scarthgap unpacks into WORKDIR.
IMA_INITRAMFS_KERNEL_FRAGMENT ?= "${@d.getVar('UNPACKDIR') or d.getVar('WORKDIR')}/ima-initramfs.cfg"
# kernel-yocto merges SRC_URI fragments itself (do_kernel_configme); a plain
# kernel.bbclass recipe does not, so this class does.
IMA_INITRAMFS_KERNEL_MERGE ?= "${@'0' if bb.data.inherits_class('kernel-yocto', d) else '1'}"
# What ima-init itself needs from any kernel, beyond the IMA/EVM fragment:
# an initramfs, devtmpfs for /dev, and a tmpfs that keeps the payload's
# security.ima/security.evm (the initial rootfs is ramfs when root= is given,
# and ramfs has no xattrs).
IMA_INITRAMFS_KERNEL_REQUIRED ?= "CONFIG_BLK_DEV_INITRD=y CONFIG_DEVTMPFS=y CONFIG_TMPFS=y CONFIG_TMPFS_XATTR=y CONFIG_PROC_FS=y CONFIG_SYSFS=y"
# "error" or "warn" when a requested option is not in the final .config.
IMA_INITRAMFS_KERNEL_CHECK ?= "error"

do_configure[file-checksums] += "${@ima_initramfs_file_checksums(d, 'IMA_EVM_ROOT_CA')}"

do_configure:append () {
	ima_initramfs_kernel_config
}

ima_initramfs_kernel_config () {
	fragment="${IMA_INITRAMFS_KERNEL_FRAGMENT}"
	config="${B}/.config"
	ima_initramfs_require IMA_INITRAMFS_KERNEL_FRAGMENT "$fragment"
	if [ ! -f "$config" ]; then
		bbfatal "no $config to add the ima-initramfs options to"
	fi

	if [ "${IMA_INITRAMFS_KERNEL_MERGE}" = "1" ]; then
		# merge_config.sh leaves temporary files in the current directory.
		(cd "${B}" && "${S}/scripts/kconfig/merge_config.sh" -m -O "${B}" "$config" "$fragment") ||
			bbfatal "merging $fragment into $config failed"
	fi

	# extract-cert reads PEM only. A copy in ${B} keeps the build
	# self-contained and lets a DER CA (ima-local-ca.x509) be used as is.
	ima_initramfs_require IMA_EVM_ROOT_CA "${IMA_EVM_ROOT_CA}"
	ca="${B}/ima-initramfs-ca.pem"
	if grep -q -e '-----BEGIN CERTIFICATE-----' "${IMA_EVM_ROOT_CA}"; then
		openssl x509 -in "${IMA_EVM_ROOT_CA}" -out "$ca"
	else
		openssl x509 -inform DER -in "${IMA_EVM_ROOT_CA}" -out "$ca"
	fi || bbfatal "IMA_EVM_ROOT_CA: ${IMA_EVM_ROOT_CA} is not an X.509 certificate in PEM or DER"
	sed -i -e '/^CONFIG_SYSTEM_TRUSTED_KEYS=/d' -e '/^# CONFIG_SYSTEM_TRUSTED_KEYS is not set/d' "$config"
	echo "CONFIG_SYSTEM_TRUSTED_KEYS=\"$ca\"" >>"$config"

	${KERNEL_CONFIG_COMMAND}

	# Kconfig drops an option whose dependencies are unmet without a word.
	# The full list of what was asked for stays in ${B} for reference.
	wanted="${B}/ima-initramfs-wanted.cfg"
	{
		sed -n -e 's/[[:space:]]*$//' -e '/^CONFIG_[A-Za-z0-9_]*=/p' -e '/^# CONFIG_[A-Za-z0-9_]* is not set$/p' "$fragment"
		for option in ${IMA_INITRAMFS_KERNEL_REQUIRED}; do
			echo "$option"
		done
		echo "CONFIG_SYSTEM_TRUSTED_KEYS=\"$ca\""
	} >"$wanted"
	missing=
	while IFS= read -r line; do
		case "$line" in
		"# "*)
			option=${line#\# }
			option=${option%% *}
			if grep -q -e "^$option=" "$config"; then
				missing="$missing '$line'"
			fi
			;;
		*)
			if ! grep -qxF -e "$line" "$config"; then
				missing="$missing $line"
			fi
			;;
		esac
	done <"$wanted"
	if [ -n "$missing" ]; then
		msg="ima-initramfs: the kernel configuration lacks:$missing (unmet dependencies? see $config)"
		case "${IMA_INITRAMFS_KERNEL_CHECK}" in
		warn) bbwarn "$msg" ;;
		*) bbfatal "$msg" ;;
		esac
	fi
}
