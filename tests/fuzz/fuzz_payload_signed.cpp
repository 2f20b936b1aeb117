// /init's order on a payload: verify the detached signature against the
// trust anchor, then read the same buffer. Input: a big-endian 16-bit
// signature length, the signature (payload.sig), then payload.tar.
#include "fuzz_keys.h"
#include "imainit/payload.h"
#include "payload_reader.h"

#include <cstddef>
#include <cstdint>

using namespace imainit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t sig_size = (size_t(data[0]) << 8) | data[1];
	if (sig_size > size - 2)
		return 0;
	std::span<const uint8_t> sig(data + 2, sig_size);
	std::span<const uint8_t> tar(data + 2 + sig_size, size - 2 - sig_size);

	const PublicKey &anchor = fuzz::key("x509_payload.der");
	bool verified = verify_payload(tar, sig, anchor).has_value();
	// A trust anchor of another kind (RSA) or from another CA must refuse
	// the same input cleanly.
	for (auto *other : fuzz::all_keys())
		if (other != &anchor)
			(void)verify_payload(tar, sig, *other);
	if (verified)
		fuzz::read_payload_as_init(tar);
	return 0;
}
