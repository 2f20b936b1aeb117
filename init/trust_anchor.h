// The key the payload signature must verify against: compiled into /init
// (CMake IMAINIT_TRUST_ANCHOR) or, failing that, /ima-init/trust.der from
// the initramfs. Both live inside the signed kernel image when the
// initramfs is built in. No anchor at all fails closed.
#pragma once

#include "imainit/keys.h"

namespace imainit::boot
{

Result<PublicKey> load_trust_anchor();

// "ECDSA P-256", "RSA-2048": for the log.
std::string key_algorithm(EVP_PKEY *key);

} // namespace imainit::boot
