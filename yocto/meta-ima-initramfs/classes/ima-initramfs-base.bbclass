# Keys, certificates and policy shared by the image classes (ima-initramfs,
# ima-initramfs-image) and the kernel class (kernel-ima-initramfs).
#
# The meta-integrity names mean the same here as there, so a local.conf
# written for meta-integrity's ima-evm-rootfs keeps working:
#   IMA_EVM_KEY_DIR   directory made by ima-gen-local-ca.sh and
#                     ima-gen-CA-signed.sh (no default: it holds private keys)
#   IMA_EVM_PRIVKEY   signing key for security.ima (and, by default, for
#                     security.evm and the payload)
#   IMA_EVM_X509      its certificate, loaded into the kernel's .ima keyring
#                     (and, by default, .evm)
#   IMA_EVM_ROOT_CA   the CA that signed the certificates, built into the
#                     kernel (CONFIG_SYSTEM_TRUSTED_KEYS); PEM or DER
#   IMA_EVM_POLICY    the IMA policy /init loads, also installed, signed, in
#                     the root filesystem
IMA_EVM_KEY_DIR ?= "IMA_EVM_KEY_DIR_NOT_SET"
IMA_EVM_PRIVKEY ?= "${IMA_EVM_KEY_DIR}/privkey_ima.pem"
IMA_EVM_X509 ?= "${IMA_EVM_KEY_DIR}/x509_ima.der"
IMA_EVM_ROOT_CA ?= "${IMA_EVM_KEY_DIR}/ima-local-ca.pem"
# The curated policy shipped with ima-mkinitramfs-native (policies/ of the
# source tree): programs and executable mappings must be signed, and so must
# every later policy load.
IMA_EVM_POLICY ?= "${STAGING_DATADIR_NATIVE}/ima-initramfs/policies/appraise-exec-signed-policy"

# What meta-integrity has no name for. A separate EVM key and a separate
# payload key are optional: by default the IMA key signs everything.
IMA_INITRAMFS_EVM_PRIVKEY ?= "${IMA_EVM_PRIVKEY}"
IMA_INITRAMFS_EVM_X509 ?= "${IMA_EVM_X509}"
# Signs payload.tar; its certificate becomes the trust anchor in the
# kernel's built-in initramfs.
IMA_INITRAMFS_PAYLOAD_KEY ?= "${IMA_EVM_PRIVKEY}"
IMA_INITRAMFS_PAYLOAD_X509 ?= "${IMA_EVM_X509}"
# sha256, sha384 or sha512, for security.ima and security.evm.
IMA_INITRAMFS_HASH_ALGO ?= "sha256"
# Passphrase of encrypted private keys: the first line of this file.
IMA_INITRAMFS_PASS_FILE ?= ""
# The keys in the ima-initramfs source tree under keys/debug are published;
# the tools refuse them unless this is "1". Never for a product.
IMA_INITRAMFS_ALLOW_DEBUG_KEYS ?= "0"

# Fails with a message that says which variable is wrong, rather than
# letting the packer report a path that the user never wrote.
# usage: ima_initramfs_require VARIABLE PATH
ima_initramfs_require () {
	case "$2" in
	*IMA_EVM_KEY_DIR_NOT_SET*)
		bbfatal "$1 is unset: set IMA_EVM_KEY_DIR in local.conf to the directory made by ima-gen-local-ca.sh and ima-gen-CA-signed.sh, or set $1 itself (see meta-ima-initramfs/README.md)"
		;;
	"")
		bbfatal "$1 is empty"
		;;
	esac
	if [ ! -f "$2" ]; then
		bbfatal "$1: $2: no such file"
	fi
}

ima_initramfs_require_keys () {
	ima_initramfs_require IMA_EVM_PRIVKEY "${IMA_EVM_PRIVKEY}"
	ima_initramfs_require IMA_EVM_X509 "${IMA_EVM_X509}"
	ima_initramfs_require IMA_INITRAMFS_EVM_PRIVKEY "${IMA_INITRAMFS_EVM_PRIVKEY}"
	ima_initramfs_require IMA_INITRAMFS_EVM_X509 "${IMA_INITRAMFS_EVM_X509}"
	if [ -n "${IMA_INITRAMFS_PASS_FILE}" ]; then
		ima_initramfs_require IMA_INITRAMFS_PASS_FILE "${IMA_INITRAMFS_PASS_FILE}"
	fi
	case "${IMA_INITRAMFS_ALLOW_DEBUG_KEYS}" in
	0|1) ;;
	*) bbfatal "IMA_INITRAMFS_ALLOW_DEBUG_KEYS: '${IMA_INITRAMFS_ALLOW_DEBUG_KEYS}' is neither 0 nor 1" ;;
	esac
}

# A change of key, certificate or policy must redo the tasks that use them,
# though no recipe variable changed. A file that does not exist (yet) is
# recorded as such; the task then fails with ima_initramfs_require's message.
# Files below TMPDIR (the default policy in the native sysroot) are left
# out: the task dependency on their recipe already covers them.
def ima_initramfs_file_checksums(d, variables):
    import os
    tmpdir = d.getVar('TMPDIR') + '/'
    files = []
    for var in variables.split():
        path = d.getVar(var) or ''
        if path.startswith('/') and not path.startswith(tmpdir):
            files.append('%s:%s' % (path, os.path.exists(path)))
    return ' '.join(files)
