#include "crypto_setup.h"

#include "imainit/ossl.h"

#include <openssl/crypto.h>

namespace imainit::boot
{

Status setup_crypto()
{
	// /init verifies and never decrypts. Left to itself, OpenSSL builds a
	// table of every legacy cipher on the first key it decodes and copies
	// their names into its name map: about 4% of all the code the payload
	// and precheck steps run, and under emulation code that runs once
	// costs far more than its instructions. No configuration file either: an
	// initramfs has none, and none may change what /init accepts.
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_LOAD_CONFIG,
				nullptr) != 1)
		return fail("cannot initialise OpenSSL: " + ossl::last_error());
	return {};
}

} // namespace imainit::boot
