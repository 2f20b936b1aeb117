// Step 7: the EVM mode (after the keys: EVM_INIT_X509 means "the .evm
// keyring holds the keys"), written to securityfs and read back.
#pragma once

#include "context.h"

namespace imainit::boot
{

inline constexpr const char *evm_file = "/sys/kernel/security/evm";

Status set_evm_mode(BootContext &ctx);

// What the kernel shows in <securityfs>/evm after mode was written:
// evm_read_key() prints evm_initialized without EVM_SETUP_COMPLETE.
uint32_t evm_expected_readback(uint32_t mode);

} // namespace imainit::boot
