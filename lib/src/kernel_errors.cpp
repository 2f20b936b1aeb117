#include "imainit/kernel_errors.h"

#include <cerrno>

namespace imainit
{

std::string explain_add_key_error(int err, bool trusted)
{
	switch (err) {
	case ENOKEY:
		// restrict_link_by_signature(): no issuer among the builtin
		// (or secondary) trusted keys, or no authorityKeyIdentifier.
		if (trusted)
			return "not signed by a key in the kernel's trusted keyrings "
			       "(CONFIG_SYSTEM_TRUSTED_KEYS), or the certificate has no "
			       "authorityKeyIdentifier";
		return "the kernel found no key to check the certificate against";
	case EKEYREJECTED:
		return "signature of the certificate is invalid or the key is not usable "
		       "(or the certificate is blacklisted)";
	case EBADMSG:
		return "malformed certificate (the kernel's X.509 parser refused it)";
	case ENOPKG:
		return "the kernel lacks the crypto for the certificate's key or signature "
		       "algorithm (CONFIG_CRYPTO_ECDSA, CONFIG_CRYPTO_RSA or the hash)";
	case ENODEV:
		return "the kernel has no asymmetric key type "
		       "(CONFIG_ASYMMETRIC_PUBLIC_KEY_SUBTYPE, CONFIG_X509_CERTIFICATE_PARSER)";
	case EACCES:
		return "no write permission on the keyring";
	case EPERM:
		if (trusted)
			return "the keyring's restriction refused the certificate (not signed by "
			       "the required CA key)";
		return "the keyring refuses all additions (it was locked with "
		       "KEYCTL_RESTRICT_KEYRING)";
	case EOPNOTSUPP:
		return "the keyring accepts no key of this type";
	case ENOENT:
		return "the keyring does not exist";
	case EKEYREVOKED:
		return "the keyring has been revoked";
	case EKEYEXPIRED:
		return "the keyring has expired";
	case EDQUOT:
		return "the key quota of uid 0 is exhausted";
	case EINVAL:
		return "the kernel refused the request (empty certificate or bad keyring id)";
	case ENOMEM:
		return "out of memory";
	}
	return "the kernel refused the certificate";
}

std::string explain_restrict_keyring_error(int err)
{
	switch (err) {
	case EEXIST:
		return "the keyring already carries a restriction (it cannot be changed)";
	case EACCES:
		return "no setattr permission on the keyring";
	case ENOTDIR:
		return "not a keyring";
	case EOPNOTSUPP:
	case EINVAL:
		return "the kernel does not support restricting keyrings "
		       "(KEYCTL_RESTRICT_KEYRING, Linux 4.12)";
	case ENOENT:
		return "the keyring does not exist";
	}
	return "cannot lock the keyring";
}

std::string explain_policy_open_error(int err)
{
	switch (err) {
	case ENOENT:
		return "no IMA policy file in securityfs: IMA is not enabled, or a policy was "
		       "loaded already and the kernel lacks CONFIG_IMA_WRITE_POLICY";
	case EBUSY:
		return "the IMA policy file is open for writing elsewhere";
	case EACCES:
	case EPERM:
		return "the kernel does not allow writing the IMA policy (already loaded)";
	}
	return "cannot open the IMA policy file";
}

std::string explain_policy_write_error(int err)
{
	switch (err) {
	case EACCES:
		// ima_read_policy() -> kernel_read_file() -> IMA appraisal of
		// READING_POLICY, or ima_write_policy() refusing rules written
		// as text while the policy must be signed.
		return "kernel refused the policy file: its signature did not verify, it is not "
		       "signed, or its security.evm does not verify (appraise func=POLICY_CHECK)";
	case EINVAL:
		return "a rule was rejected by the kernel (a keyword or value this kernel does "
		       "not support; the kernel log names the rule)";
	case ENOENT:
		return "the kernel cannot find the policy file at that path";
	case EFBIG:
		return "the policy file is too large";
	case EPERM:
		return "the kernel does not allow loading a policy (missing CAP_SYS_ADMIN or "
		       "lockdown)";
	case EBUSY:
		return "policy already being loaded";
	case ENOMEM:
		return "out of memory";
	}
	return "the kernel refused the policy";
}

std::string explain_evm_error(int err)
{
	switch (err) {
	case ENOENT:
		return "no EVM file in securityfs: the kernel lacks CONFIG_EVM";
	case EPERM:
		return "EVM already set up (setup complete was signalled before), or metadata "
		       "writes were requested while an HMAC key is loaded";
	case EINVAL:
		return "the kernel rejected the EVM mode value";
	case ENOKEY:
		return "no EVM HMAC key (evm-key) in the keyrings";
	}
	return "cannot set the EVM mode";
}

std::string explain_finit_module_error(int err)
{
	switch (err) {
	case EEXIST:
		return "already loaded";
	case EACCES:
		return "IMA appraisal refused the module (missing or invalid security.ima, or "
		       "security.evm) under a MODULE_CHECK rule";
	case EKEYREJECTED:
	case ENOKEY:
	case EBADMSG:
		return "the kernel's module signature check refused it (CONFIG_MODULE_SIG)";
	case ENOEXEC:
		return "invalid module format (built for another kernel, architecture or "
		       "version)";
	case ENOENT:
		return "unknown symbol: a module it depends on is not loaded (check the order of "
		       "modules in the configuration)";
	case EPERM:
		return "module loading is disabled (kernel.modules_disabled or lockdown)";
	case ENOSYS:
		return "the kernel has no module support (CONFIG_MODULES)";
	case EINVAL:
		return "the kernel refused the module or its parameters (a compressed module "
		       "needs CONFIG_MODULE_DECOMPRESS)";
	case ENODEV:
		return "the module's init found no device";
	case EBUSY:
		return "the module is being loaded concurrently";
	}
	return "the module's init failed";
}

std::string explain_root_mount_error(int err)
{
	switch (err) {
	case ENODEV:
		return "the kernel does not support this filesystem type";
	case EINVAL:
		return "not a filesystem of this type, or an option it does not understand";
	case ENOTBLK:
		return "not a block device";
	case ENXIO:
		return "the device does not exist";
	case EACCES:
	case EROFS:
		return "the device is read-only";
	case EBUSY:
		return "the device is in use";
	case EIO:
		return "I/O error reading the device";
	case EUCLEAN:
		return "the filesystem is corrupted (run fsck)";
	}
	return "cannot mount the root filesystem";
}

} // namespace imainit
