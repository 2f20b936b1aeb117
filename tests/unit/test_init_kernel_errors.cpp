#include "imainit/kernel_errors.h"

#include <cerrno>
#include <doctest/doctest.h>

using namespace imainit;

TEST_CASE("add_key errors in the trusted keyring")
{
	CHECK(explain_add_key_error(ENOKEY, true)
		  .starts_with("not signed by a key in the kernel's trusted keyrings "
			       "(CONFIG_SYSTEM_TRUSTED_KEYS)"));
	CHECK(explain_add_key_error(EKEYREJECTED, true)
		  .starts_with("signature of the certificate is invalid or the key is not usable"));
	CHECK(explain_add_key_error(EBADMSG, true).starts_with("malformed certificate"));
	CHECK(explain_add_key_error(ENOPKG, true).find("CONFIG_CRYPTO_ECDSA") != std::string::npos);
	CHECK(explain_add_key_error(ENODEV, true).find("asymmetric key type") != std::string::npos);
	CHECK(explain_add_key_error(EACCES, true) == "no write permission on the keyring");
	CHECK(explain_add_key_error(EPERM, true).find("restriction") != std::string::npos);
	CHECK(explain_add_key_error(ENOENT, true) == "the keyring does not exist");
	CHECK(explain_add_key_error(EDQUOT, true).find("quota") != std::string::npos);
	CHECK(explain_add_key_error(EKEYREVOKED, true).find("revoked") != std::string::npos);
	CHECK(explain_add_key_error(EKEYEXPIRED, true).find("expired") != std::string::npos);
	CHECK(explain_add_key_error(EOPNOTSUPP, true).find("no key of this type") !=
	      std::string::npos);
	CHECK(explain_add_key_error(EINVAL, true).find("refused the request") != std::string::npos);
	CHECK(explain_add_key_error(ENOMEM, true) == "out of memory");
	CHECK(explain_add_key_error(E2BIG, true) == "the kernel refused the certificate");
}

TEST_CASE("add_key errors in a keyring /init created")
{
	CHECK(explain_add_key_error(EPERM, false).find("KEYCTL_RESTRICT_KEYRING") !=
	      std::string::npos);
	CHECK(explain_add_key_error(ENOKEY, false).find("no key to check") != std::string::npos);
}

TEST_CASE("keyring restriction errors")
{
	CHECK(explain_restrict_keyring_error(EEXIST).find("already carries a restriction") !=
	      std::string::npos);
	CHECK(explain_restrict_keyring_error(EACCES) == "no setattr permission on the keyring");
	CHECK(explain_restrict_keyring_error(EOPNOTSUPP).find("4.12") != std::string::npos);
	CHECK(explain_restrict_keyring_error(ENOTDIR) == "not a keyring");
	CHECK(explain_restrict_keyring_error(ENOENT) == "the keyring does not exist");
	CHECK(explain_restrict_keyring_error(EIO) == "cannot lock the keyring");
}

TEST_CASE("IMA policy open and write errors")
{
	CHECK(explain_policy_open_error(ENOENT).find("CONFIG_IMA_WRITE_POLICY") !=
	      std::string::npos);
	CHECK(explain_policy_open_error(EBUSY).find("open for writing elsewhere") !=
	      std::string::npos);
	CHECK(explain_policy_open_error(EACCES).find("already loaded") != std::string::npos);
	CHECK(explain_policy_open_error(EIO) == "cannot open the IMA policy file");

	CHECK(explain_policy_write_error(EACCES).starts_with(
	    "kernel refused the policy file: its signature did not verify"));
	CHECK(explain_policy_write_error(EINVAL).starts_with("a rule was rejected"));
	CHECK(explain_policy_write_error(ENOENT).find("cannot find the policy file") !=
	      std::string::npos);
	CHECK(explain_policy_write_error(EFBIG).find("too large") != std::string::npos);
	CHECK(explain_policy_write_error(EPERM).find("lockdown") != std::string::npos);
	CHECK(explain_policy_write_error(EBUSY) == "policy already being loaded");
	CHECK(explain_policy_write_error(ENOMEM) == "out of memory");
	CHECK(explain_policy_write_error(EIO) == "the kernel refused the policy");
}

TEST_CASE("EVM errors")
{
	CHECK(explain_evm_error(EPERM).starts_with("EVM already set up"));
	CHECK(explain_evm_error(ENOENT).find("CONFIG_EVM") != std::string::npos);
	CHECK(explain_evm_error(EINVAL).find("EVM mode value") != std::string::npos);
	CHECK(explain_evm_error(ENOKEY).find("evm-key") != std::string::npos);
	CHECK(explain_evm_error(EIO) == "cannot set the EVM mode");
}

TEST_CASE("finit_module errors")
{
	CHECK(explain_finit_module_error(EEXIST) == "already loaded");
	CHECK(explain_finit_module_error(EACCES).starts_with("IMA appraisal refused the module"));
	CHECK(explain_finit_module_error(EKEYREJECTED).find("CONFIG_MODULE_SIG") !=
	      std::string::npos);
	CHECK(explain_finit_module_error(ENOKEY) == explain_finit_module_error(EKEYREJECTED));
	CHECK(explain_finit_module_error(EBADMSG) == explain_finit_module_error(EKEYREJECTED));
	CHECK(explain_finit_module_error(ENOEXEC).starts_with("invalid module format"));
	CHECK(explain_finit_module_error(ENOENT).starts_with("unknown symbol"));
	CHECK(explain_finit_module_error(EPERM).find("modules_disabled") != std::string::npos);
	CHECK(explain_finit_module_error(ENOSYS).find("CONFIG_MODULES") != std::string::npos);
	CHECK(explain_finit_module_error(EINVAL).find("CONFIG_MODULE_DECOMPRESS") !=
	      std::string::npos);
	CHECK(explain_finit_module_error(ENODEV).find("no device") != std::string::npos);
	CHECK(explain_finit_module_error(EBUSY).find("concurrently") != std::string::npos);
	CHECK(explain_finit_module_error(EIO) == "the module's init failed");
}

TEST_CASE("root mount errors")
{
	CHECK(explain_root_mount_error(ENODEV).find("does not support this filesystem") !=
	      std::string::npos);
	CHECK(explain_root_mount_error(EINVAL).starts_with("not a filesystem of this type"));
	CHECK(explain_root_mount_error(ENOTBLK) == "not a block device");
	CHECK(explain_root_mount_error(ENXIO) == "the device does not exist");
	CHECK(explain_root_mount_error(EROFS) == "the device is read-only");
	CHECK(explain_root_mount_error(EACCES) == "the device is read-only");
	CHECK(explain_root_mount_error(EBUSY) == "the device is in use");
	CHECK(explain_root_mount_error(EIO).find("I/O error") != std::string::npos);
	CHECK(explain_root_mount_error(EUCLEAN).find("fsck") != std::string::npos);
	CHECK(explain_root_mount_error(ENOMEM) == "cannot mount the root filesystem");
}
