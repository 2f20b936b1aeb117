SUMMARY = "Verified IMA/EVM early boot: a static /init for the kernel's built-in initramfs, and its packer"
DESCRIPTION = "ima-init verifies a signed payload, unpacks it with its xattrs into a tmpfs, \
loads the IMA/EVM certificates into the kernel's trusted keyrings and the signed IMA policy, \
sets the EVM mode and switches to the real root, failing closed. ima-mkinitramfs signs \
files and trees (security.ima, portable security.evm), packs and verifies the initramfs."
SECTION = "security"
# The project carries no license text yet: replace with its license and
# LIC_FILES_CHKSUM once it does.
LICENSE = "CLOSED"

# The target build makes the static ima-init (and a dynamic ima-mkinitramfs
# for checking a running system); the native build, ima-mkinitramfs-native,
# makes only the packer that the image classes run.
PROVIDES += "ima-init ima-mkinitramfs"
BBCLASSEXTEND = "native"

# The layer lives inside the ima-initramfs source tree (yocto/meta-ima-initramfs),
# and by default the recipe builds that tree. To build a released copy
# instead, set in local.conf:
#   IMA_INITRAMFS_SRC_URI = "git://HOST/PATH/ima-initramfs.git;protocol=https;branch=main;destsuffix=ima-initramfs"
#   SRCREV:pn-ima-initramfs = "<commit>"
#   SRCREV:pn-ima-initramfs-native = "<commit>"
IMA_INITRAMFS_SRC_URI ??= ""
IMA_INITRAMFS_SRCDIR ??= "${@os.path.normpath(os.path.join(d.getVar('IMA_INITRAMFS_LAYERDIR'), '..', '..'))}"
SRC_URI = "${IMA_INITRAMFS_SRC_URI}"
S = "${@(d.getVar('UNPACKDIR') or d.getVar('WORKDIR')) + '/ima-initramfs'}"
inherit ${@'' if d.getVar('IMA_INITRAMFS_SRC_URI') else 'externalsrc'}
EXTERNALSRC = "${@'' if d.getVar('IMA_INITRAMFS_SRC_URI') else d.getVar('IMA_INITRAMFS_SRCDIR')}"
EXTERNALSRC_BUILD = "${WORKDIR}/build"

inherit cmake pkgconfig

# ima-init links libarchive, libcrypto and libblkid statically, with what
# libarchive was built with (PACKAGECONFIG: zlib, bzip2, xz, zstd, acl).
# openssl, zlib and zstd install their .a anyway; the autotools ones get
# --enable-static from the layer's bbappends, with 'ima' in DISTRO_FEATURES
# (classes/ima-initramfs-static-libs.bbclass).
DEPENDS = "openssl libarchive zlib xz zstd bzip2 acl util-linux"

EXTRA_OECMAKE = "-DIMAINIT_BUILD_TESTS=OFF"
EXTRA_OECMAKE:append:class-target = " -DIMAINIT_BUILD_INIT=ON"
# The build host runs only the packer; it needs no static /init.
EXTRA_OECMAKE:append:class-native = " -DIMAINIT_BUILD_INIT=OFF"

# The sources are C++23: std::expected needs GCC 12 or newer. Native
# recipes are compiled by the build host's compiler, so say so before
# CMake fails on a missing header.
do_configure:prepend:class-native () {
	major=$(${BUILD_CXX} -dumpversion | cut -d. -f1)
	if [ "$major" -lt 12 ]; then
		bbfatal "ima-mkinitramfs-native needs a host C++ compiler with C++23 (GCC 12 or newer); ${BUILD_CXX} is version $(${BUILD_CXX} -dumpversion). Use Yocto's buildtools-extended tarball on this host."
	fi
}

# Packages named after what they hold; the recipe's own ${PN} is left
# empty, and ${PN}-doc gets the man pages.
PACKAGE_BEFORE_PN = "ima-init ima-mkinitramfs ima-initramfs-policies ima-initramfs-keys"

# The /init of the built-in initramfs: static, so it needs nothing else on
# the target. Not in PATH: it only ever runs as PID 1.
FILES:ima-init = "${libexecdir}/ima-initramfs/ima-init"
SUMMARY:ima-init = "Static /init that loads IMA/EVM keys and a signed policy from a verified payload"
# The build installs ima-init stripped, after checking its size: it is
# copied into every kernel image that bundles it.
INSANE_SKIP:ima-init = "already-stripped"

FILES:ima-mkinitramfs = "${bindir}/ima-mkinitramfs"
SUMMARY:ima-mkinitramfs = "Signs, packs and verifies IMA/EVM-labelled trees and ima-init initramfs images"

FILES:ima-initramfs-policies = "${datadir}/ima-initramfs/policies"
SUMMARY:ima-initramfs-policies = "Curated IMA policies of ima-initramfs"

FILES:ima-initramfs-keys = "${bindir}/ima-gen-local-ca.sh ${bindir}/ima-gen-CA-signed.sh"
SUMMARY:ima-initramfs-keys = "Scripts that make an IMA/EVM CA and signing keys, with meta-integrity's file names"
RDEPENDS:ima-initramfs-keys = "openssl-bin"
