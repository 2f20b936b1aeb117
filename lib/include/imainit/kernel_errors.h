// What an errno means for each kernel interface /init drives. The kernel
// reports most refusals with a bare errno (and sometimes a dmesg line
// nobody sees on a halted machine); these turn them into the sentence an
// administrator needs. Each returns a sentence without the strerror() text,
// which Error::what() appends.
#pragma once

#include <string>

namespace imainit
{

// add_key("asymmetric", ...) of an X.509 certificate. trusted: the
// keyring is the kernel's .ima/.evm (restrict_link_by_builtin_trusted).
std::string explain_add_key_error(int err, bool trusted);
// keyctl(KEYCTL_RESTRICT_KEYRING) on a keyring /init created.
std::string explain_restrict_keyring_error(int err);
// open() of <securityfs>/ima/policy for writing.
std::string explain_policy_open_error(int err);
// write() of the policy path to <securityfs>/ima/policy.
std::string explain_policy_write_error(int err);
// open() or write() of <securityfs>/evm.
std::string explain_evm_error(int err);
// finit_module().
std::string explain_finit_module_error(int err);
// mount() of the real root.
std::string explain_root_mount_error(int err);

} // namespace imainit
