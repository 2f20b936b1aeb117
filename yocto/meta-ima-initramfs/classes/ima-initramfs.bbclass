# Labels a root filesystem image for IMA/EVM appraisal by ima-init:
#
#   IMAGE_CLASSES += "ima-initramfs"
#
# in local.conf, in place of meta-integrity's ima-evm-rootfs. At the end of
# do_image (under pseudo, so the labels land in the image that mkfs, wic or
# tar writes) it installs the IMA policy as a file of the root filesystem,
# then writes on every regular file a security.ima signature and a portable
# security.evm signature (over the file's xattrs, owner and mode, which
# pseudo reports as they will be in the image) with `ima-mkinitramfs sign
# --evm`, and checks the result with `ima-mkinitramfs verify --evm`.
#
# The kernel's built-in initramfs that loads the keys and the policy is
# built by the ima-initramfs-image recipe; see README.md.

inherit ima-initramfs-base

# Where the policy goes in the root filesystem ("" for nowhere). ima-init
# loads the copy in its signed payload; this one, signed like every other
# file, serves runtime policy updates and inspection.
IMA_INITRAMFS_ROOTFS_POLICY ?= "${sysconfdir}/ima/ima-policy"
# fnmatch(3) patterns of files and directories not to label: without '/' a
# name anywhere, with '/' a path relative to the root.
IMA_INITRAMFS_SIGN_EXCLUDE ?= ""
# Check every label after writing it ("1"), or not ("0"): costs one more
# read of the root filesystem, and catches a certificate that does not
# belong to its key before the image boots into a denied init.
IMA_INITRAMFS_VERIFY_ROOTFS ?= "1"

# wic would rewrite /etc/fstab after labelling and so invalidate its
# signatures (meta-integrity's ima-evm-rootfs does the same).
WIC_CREATE_EXTRA_ARGS:append = " --no-fstab-update"
# tar images leave out xattrs unless asked; with these they keep the labels.
IMAGE_CMD_TAR:append = " --xattrs --xattrs-include=security.ima --xattrs-include=security.evm"

ima_initramfs_sign_rootfs () {
	ima_initramfs_require_keys

	if [ "${IMA_INITRAMFS_ALLOW_DEBUG_KEYS}" = "1" ]; then
		debug=--allow-debug-keys
	else
		debug=
	fi
	if [ -n "${IMA_INITRAMFS_PASS_FILE}" ]; then
		pass="--pass-file=${IMA_INITRAMFS_PASS_FILE}"
	else
		pass=
	fi

	# Installed first, so that the one labelling pass signs it too.
	if [ -n "${IMA_INITRAMFS_ROOTFS_POLICY}" ]; then
		ima_initramfs_require IMA_EVM_POLICY "${IMA_EVM_POLICY}"
		ima-mkinitramfs lint-policy "${IMA_EVM_POLICY}" ||
			bbfatal "IMA_EVM_POLICY: ${IMA_EVM_POLICY} is not a valid IMA policy (see the messages above)"
		install -d "$(dirname "${IMAGE_ROOTFS}${IMA_INITRAMFS_ROOTFS_POLICY}")"
		install -m 0644 "${IMA_EVM_POLICY}" "${IMAGE_ROOTFS}${IMA_INITRAMFS_ROOTFS_POLICY}"
	fi

	# Patterns go to the tool unexpanded: no globbing here.
	set -f
	set --
	for pattern in ${IMA_INITRAMFS_SIGN_EXCLUDE}; do
		set -- "$@" --exclude "$pattern"
	done
	set +f

	bbnote "IMA/EVM: labelling ${IMAGE_ROOTFS}: security.ima with ${IMA_EVM_PRIVKEY}, security.evm with ${IMA_INITRAMFS_EVM_PRIVKEY}"
	ima-mkinitramfs sign --evm \
		--key "${IMA_EVM_PRIVKEY}" --cert "${IMA_EVM_X509}" \
		--evm-key "${IMA_INITRAMFS_EVM_PRIVKEY}" --evm-cert "${IMA_INITRAMFS_EVM_X509}" \
		--hash-algo "${IMA_INITRAMFS_HASH_ALGO}" $pass $debug "$@" \
		"${IMAGE_ROOTFS}" ||
		bbfatal "IMA/EVM: labelling ${IMAGE_ROOTFS} failed (see the messages above)"

	case "${IMA_INITRAMFS_VERIFY_ROOTFS}" in
	1)
		ima-mkinitramfs verify --evm --quiet \
			--cert "${IMA_EVM_X509}" --cert "${IMA_INITRAMFS_EVM_X509}" \
			"$@" "${IMAGE_ROOTFS}" ||
			bbfatal "IMA/EVM: the labels in ${IMAGE_ROOTFS} do not verify against ${IMA_EVM_X509} and ${IMA_INITRAMFS_EVM_X509} (see the messages above)"
		;;
	0) ;;
	*) bbfatal "IMA_INITRAMFS_VERIFY_ROOTFS: '${IMA_INITRAMFS_VERIFY_ROOTFS}' is neither 0 nor 1" ;;
	esac
}

python () {
    # The initramfs image is packed, not labelled: its files travel in the
    # signed payload.
    if bb.data.inherits_class('ima-initramfs-image', d):
        return
    ima = bb.utils.contains('DISTRO_FEATURES', 'ima', True, False, d)
    # meta-integrity's class labels only with 'ima' in DISTRO_FEATURES.
    if ima and bb.data.inherits_class('ima-evm-rootfs', d):
        bb.fatal("%s inherits both ima-initramfs and meta-integrity's ima-evm-rootfs: "
                 "each labels the root filesystem, with different tools; keep one in IMAGE_CLASSES"
                 % d.getVar('PN'))
    if not ima:
        bb.warn("%s: ima-initramfs labels this image, but 'ima' is not in DISTRO_FEATURES, "
                "so the kernel recipes of meta-ima-initramfs leave the kernel configuration alone"
                % d.getVar('PN'))

    # Labelling must come after every other step that changes a file, an
    # owner, a mode or an xattr (selinux labels are covered by security.evm).
    # Appended to the base value at the end of parsing, after the "+=" of
    # other classes (image-buildinfo, selinux-image); only ":append"s run
    # later: image.bbclass's reproducible_final_image_task, which changes
    # mtimes, and on scarthgap systemd_preset_all, which makes and removes
    # symlinks. Neither signature covers those.
    d.appendVar('IMAGE_PREPROCESS_COMMAND', ' ima_initramfs_sign_rootfs')
    d.appendVarFlag('do_image', 'depends', ' ima-mkinitramfs-native:do_populate_sysroot')
    d.appendVarFlag('do_image', 'file-checksums', ' ' + ima_initramfs_file_checksums(d,
        'IMA_EVM_PRIVKEY IMA_EVM_X509 IMA_INITRAMFS_EVM_PRIVKEY IMA_INITRAMFS_EVM_X509 '
        'IMA_EVM_POLICY IMA_INITRAMFS_PASS_FILE'))
}
