# The initramfs image of ima-init, for the kernel to bundle:
#
#   INITRAMFS_IMAGE = "ima-initramfs-image"
#   INITRAMFS_IMAGE_BUNDLE = "1"
#
# The image's root filesystem only gathers the inputs from packages: the
# static ima-init and the kernel modules to load. Its one image type,
# "ima-initramfs", runs `ima-mkinitramfs build`, which writes the cpio the
# kernel unpacks: /init, /dev/console and the signed payload (ima-init.conf,
# the IMA policy, the certificates and the modules, each file with
# security.ima and security.evm). kernel.bbclass's do_bundle_initramfs then
# relinks the kernel with it as CONFIG_INITRAMFS_SOURCE; the kernel's own
# signature (secure boot, FIT) covers /init and the payload trust anchor.
#
# Keys, certificates and policy: see ima-initramfs-base.bbclass.

inherit image ima-initramfs-base

# Kernel modules ima-init loads before it mounts the root filesystem (the
# root device's driver, its filesystem), by module name. Their packages are
# installed into this image's root filesystem with their dependencies, and
# all of them are packed, dependencies first.
IMA_INITRAMFS_MODULES ?= ""
# More files for the payload: SRC[:DEST] pairs, DEST relative to the
# payload root (default: the name of SRC).
IMA_INITRAMFS_EXTRA_FILES ?= ""
# What /init does (etc/ima-init.conf); empty means the packer's default.
# EVM mode: 0x80000002 (signatures only, setup complete) by default.
IMA_INITRAMFS_EVM_MODE ?= ""
# halt, reboot or panic.
IMA_INITRAMFS_FAILURE_ACTION ?= "halt"
# Longest wait for the root device, in seconds.
IMA_INITRAMFS_ROOT_WAIT ?= "30"
# "1": load the certificates into _ima/_evm on a kernel without
# CONFIG_INTEGRITY_TRUSTED_KEYRING. Any key can then be added at run time.
IMA_INITRAMFS_ALLOW_UNTRUSTED_KEYRING ?= "0"
# "1": lock the keyrings after loading.
IMA_INITRAMFS_LOCK_KEYRINGS ?= "1"
# "1": boot only a real init that carries a valid security.ima signature.
IMA_INITRAMFS_REQUIRE_SIGNED_INIT ?= "0"
# none, gzip, xz or zstd. A bundled initramfs is best left uncompressed: the
# kernel build compresses the image as a whole.
IMA_INITRAMFS_COMPRESS ?= "none"
# The /init binary, as the ima-init package installs it.
IMA_INITRAMFS_INIT ?= "${IMAGE_ROOTFS}${libexecdir}/ima-initramfs/ima-init"

# Inputs only: no package manager data, no locales, no kernel.
IMAGE_FEATURES = ""
IMAGE_LINGUAS = ""
PACKAGE_EXCLUDE = "kernel-image-*"
NO_RECOMMENDATIONS = "1"
PACKAGE_INSTALL = "ima-init ${@ima_initramfs_module_packages(d)}"

# The package of each module, named as kernel-module-split.bbclass names it.
def ima_initramfs_module_packages(d):
    prefix = d.getVar('KERNEL_MODULE_PACKAGE_PREFIX') or ''
    suffix = d.getVar('KERNEL_MODULE_PACKAGE_SUFFIX') or ''
    kernel = d.getVar('KERNEL_PACKAGE_NAME') or 'kernel'
    return ' '.join('%s%s-module-%s%s' % (prefix, kernel, oe.package.legitimize_package_name(m), suffix)
                    for m in (d.getVar('IMA_INITRAMFS_MODULES') or '').split())

# kernel.bbclass finds the initramfs as ${INITRAMFS_IMAGE_NAME}.cpio*, the
# image's link name without a suffix (see image-artifact-names.bbclass).
IMAGE_NAME_SUFFIX ?= ""

# image_types.bbclass assigns IMAGE_TYPES after this class (inherit_defer).
IMAGE_TYPES:append = " ima-initramfs"
IMAGE_FSTYPES = "ima-initramfs"
IMAGE_CMD:ima-initramfs = "ima_initramfs_image_cmd"
do_image_ima_initramfs[depends] += "ima-mkinitramfs-native:do_populate_sysroot"
do_image_ima_initramfs[file-checksums] += "${@ima_initramfs_file_checksums(d, 'IMA_EVM_PRIVKEY IMA_EVM_X509 IMA_INITRAMFS_EVM_PRIVKEY IMA_INITRAMFS_EVM_X509 IMA_INITRAMFS_PAYLOAD_KEY IMA_INITRAMFS_PAYLOAD_X509 IMA_EVM_ROOT_CA IMA_EVM_POLICY IMA_INITRAMFS_PASS_FILE')}"

# Writes the module files to load, one path a line, dependencies first, as
# modules.dep (made by depmod when the module packages were installed)
# orders them.
# usage: ima_initramfs_module_files OUTPUT
ima_initramfs_module_files () {
	: >"$1"
	[ -n "${IMA_INITRAMFS_MODULES}" ] || return 0

	set -- "$1" "${IMAGE_ROOTFS}${nonarch_base_libdir}/modules"/*/modules.dep
	if [ ! -f "$2" ]; then
		bbfatal "IMA_INITRAMFS_MODULES: no modules.dep below ${IMAGE_ROOTFS}${nonarch_base_libdir}/modules: were the kernel module packages installed?"
	fi
	if [ $# -gt 2 ]; then
		bbfatal "IMA_INITRAMFS_MODULES: modules of more than one kernel version below ${IMAGE_ROOTFS}${nonarch_base_libdir}/modules"
	fi

	# Each line of modules.dep names a module and all it depends on,
	# directly or not. Kahn's algorithm over the wanted modules and their
	# dependencies, ties broken by the order of IMA_INITRAMFS_MODULES,
	# depends on no convention about the order within a line.
	awk -v wanted="${IMA_INITRAMFS_MODULES}" -v moddir="$(dirname "$2")" '
	function name(file,    n) {
		n = file
		sub(/^.*\//, "", n)
		sub(/\.ko(\.(gz|xz|zst))?$/, "", n)
		gsub(/-/, "_", n)
		return n
	}
	{
		m = $1
		sub(/:$/, "", m)
		n = name(m)
		path[n] = m
		ndeps[n] = NF - 1
		for (i = 2; i <= NF; i++)
			dep[n, i - 1] = name($i)
	}
	END {
		count = split(wanted, w, /[ \t]+/)
		total = 0
		for (i = 1; i <= count; i++) {
			if (w[i] == "")
				continue
			n = w[i]
			gsub(/-/, "_", n)
			if (!(n in path)) {
				printf("%s is not in %s/modules.dep\n", w[i], moddir) > "/dev/stderr"
				exit 1
			}
			if (!(n in inset)) {
				inset[n] = 1
				order[++total] = n
			}
			for (j = 1; j <= ndeps[n]; j++) {
				d = dep[n, j]
				if (!(d in inset)) {
					inset[d] = 1
					order[++total] = d
				}
			}
		}
		done = 0
		while (done < total) {
			progress = 0
			for (i = 1; i <= total; i++) {
				n = order[i]
				if (n in emitted)
					continue
				ready = 1
				for (j = 1; j <= ndeps[n]; j++)
					if (!(dep[n, j] in emitted))
						ready = 0
				if (!ready)
					continue
				print moddir "/" path[n]
				emitted[n] = 1
				done++
				progress = 1
				break
			}
			if (!progress) {
				printf("dependency loop in %s/modules.dep\n", moddir) > "/dev/stderr"
				exit 1
			}
		}
	}' "$2" >"$1" || bbfatal "IMA_INITRAMFS_MODULES: cannot order '${IMA_INITRAMFS_MODULES}' (see the message above)"
}

# Writes the initramfs and checks it.
# usage: ima_initramfs_pack OUTPUT
ima_initramfs_pack () {
	out="$1"
	ima_initramfs_require_keys
	ima_initramfs_require IMA_INITRAMFS_PAYLOAD_KEY "${IMA_INITRAMFS_PAYLOAD_KEY}"
	ima_initramfs_require IMA_INITRAMFS_PAYLOAD_X509 "${IMA_INITRAMFS_PAYLOAD_X509}"
	ima_initramfs_require IMA_EVM_ROOT_CA "${IMA_EVM_ROOT_CA}"
	ima_initramfs_require IMA_EVM_POLICY "${IMA_EVM_POLICY}"
	ima_initramfs_require IMA_INITRAMFS_INIT "${IMA_INITRAMFS_INIT}"

	set -- --init "${IMA_INITRAMFS_INIT}" \
		--policy "${IMA_EVM_POLICY}" \
		--ima-cert "${IMA_EVM_X509}" --evm-cert "${IMA_INITRAMFS_EVM_X509}" \
		--ca "${IMA_EVM_ROOT_CA}" \
		--key "${IMA_EVM_PRIVKEY}" --evm-key "${IMA_INITRAMFS_EVM_PRIVKEY}" \
		--payload-key "${IMA_INITRAMFS_PAYLOAD_KEY}" \
		--payload-cert "${IMA_INITRAMFS_PAYLOAD_X509}" \
		--hash-algo "${IMA_INITRAMFS_HASH_ALGO}" \
		--failure-action "${IMA_INITRAMFS_FAILURE_ACTION}" \
		--root-wait "${IMA_INITRAMFS_ROOT_WAIT}" \
		--format cpio --compress "${IMA_INITRAMFS_COMPRESS}"
	if [ -n "${IMA_INITRAMFS_EVM_MODE}" ]; then
		set -- "$@" --evm-mode "${IMA_INITRAMFS_EVM_MODE}"
	fi
	if [ -n "${IMA_INITRAMFS_PASS_FILE}" ]; then
		set -- "$@" --pass-file "${IMA_INITRAMFS_PASS_FILE}"
	fi
	ima_initramfs_flag IMA_INITRAMFS_ALLOW_DEBUG_KEYS "${IMA_INITRAMFS_ALLOW_DEBUG_KEYS}" 0
	[ "$flag" = 0 ] || set -- "$@" --allow-debug-keys
	ima_initramfs_flag IMA_INITRAMFS_ALLOW_UNTRUSTED_KEYRING "${IMA_INITRAMFS_ALLOW_UNTRUSTED_KEYRING}" 0
	[ "$flag" = 0 ] || set -- "$@" --allow-untrusted-keyring
	ima_initramfs_flag IMA_INITRAMFS_LOCK_KEYRINGS "${IMA_INITRAMFS_LOCK_KEYRINGS}" 1
	[ "$flag" = 1 ] || set -- "$@" --no-lock-keyrings
	ima_initramfs_flag IMA_INITRAMFS_REQUIRE_SIGNED_INIT "${IMA_INITRAMFS_REQUIRE_SIGNED_INIT}" 0
	[ "$flag" = 0 ] || set -- "$@" --require-signed-init

	set -f
	for extra in ${IMA_INITRAMFS_EXTRA_FILES}; do
		set -- "$@" --add "$extra"
	done
	set +f

	modules="$out.modules"
	ima_initramfs_module_files "$modules"
	while IFS= read -r module; do
		set -- "$@" --module "$module"
	done <"$modules"
	rm -f "$modules"

	bbnote "IMA/EVM: packing $out"
	ima-mkinitramfs build "$@" -o "$out" ||
		bbfatal "IMA/EVM: ima-mkinitramfs build failed (see the messages above)"
	ima-mkinitramfs verify --quiet --trust "${IMA_INITRAMFS_PAYLOAD_X509}" "$out" ||
		bbfatal "IMA/EVM: $out does not verify against IMA_INITRAMFS_PAYLOAD_X509 (see the messages above)"
}

# Reads a 0/1 variable into $flag, refusing anything else: a typo such as
# "yes" must not silently mean the default.
# usage: ima_initramfs_flag VARIABLE VALUE DEFAULT
ima_initramfs_flag () {
	case "$2" in
	0|1) flag=$2 ;;
	"") flag=$3 ;;
	*) bbfatal "$1: '$2' is neither 0 nor 1" ;;
	esac
}

ima_initramfs_image_cmd () {
	case "${IMA_INITRAMFS_COMPRESS}" in
	none) suffix=cpio ;;
	gzip) suffix=cpio.gz ;;
	xz) suffix=cpio.xz ;;
	zstd) suffix=cpio.zst ;;
	*) bbfatal "IMA_INITRAMFS_COMPRESS: '${IMA_INITRAMFS_COMPRESS}' is not one of none, gzip, xz, zstd" ;;
	esac
	ima_initramfs_pack "${IMGDEPLOYDIR}/${IMAGE_NAME}.$suffix"
	# image.bbclass links ${IMAGE_LINK_NAME}.<type>, which for this type is
	# not a file name the kernel looks for.
	if [ -n "${IMAGE_LINK_NAME}" ] && [ "${IMAGE_LINK_NAME}" != "${IMAGE_NAME}" ]; then
		ln -sf "${IMAGE_NAME}.$suffix" "${IMGDEPLOYDIR}/${IMAGE_LINK_NAME}.$suffix"
	fi
}
