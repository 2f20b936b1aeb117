// The checks the kernel will make when it appraises a file, done first in
// userspace so that a failure names the file and the reason: security.ima
// against the IMA certificate, security.evm (portable) against the EVM one.
#pragma once

#include "context.h"

namespace imainit::boot
{

// Verifies security.ima of the open file fd against the IMA certificate;
// name is how the file is called in messages. Fails when the file has no
// security.ima or the signature does not verify.
Status check_ima_signature(int fd, const std::string &name, const PublicKey &ima_cert);

// Verifies a portable security.evm of fd against the EVM certificate.
// Signatures bound to an inode (HMAC, type 0x03) cannot be checked here:
// they pass with a note in *note. A missing security.evm fails.
Status check_evm_signature(int fd, const std::string &name, const PublicKey &evm_cert,
			   std::string *note);

// True when the configured EVM mode turns on signature checking (EVM_INIT_X509):
// from then on every appraised file needs a valid security.evm.
bool evm_x509_enabled(const BootContext &ctx);

} // namespace imainit::boot
