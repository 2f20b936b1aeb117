// The signature formats an attacker controls in a file's xattrs and in
// payload.sig: the v2 header parse, verification against the trusted key
// set, and portable EVM signatures (see digsig_input.h for the layout).
#include "digsig_input.h"
#include "fuzz_check.h"
#include "fuzz_keys.h"
#include "imainit/digsig.h"
#include "imainit/evm.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

using namespace imainit;

namespace
{

void fuzz_parse(std::span<const uint8_t> in)
{
	auto sig = parse_signature_v2(in);
	if (!sig)
		return;
	// The parse is strict (exact length), so it must be lossless.
	auto again = serialize_signature_v2(*sig);
	FUZZ_CHECK(std::equal(again.begin(), again.end(), in.begin(), in.end()));
}

void fuzz_verify(std::span<const uint8_t> in)
{
	HashAlgo algo = HashAlgo::sha256;
	if (in.size() > 2)
		if (auto a = hash_algo_from_id(in[2]))
			algo = *a;
	auto digest = digest_buffer(algo, as_bytes(fuzz::signed_message));
	FUZZ_CHECK(digest);
	auto r = verify_digest(in, *digest, fuzz::all_keys());
	// Whatever verifies must also parse.
	FUZZ_CHECK(!r || parse_signature_v2(in));
	// A digest of the wrong length is refused, not read past its end.
	auto short_digest = std::span<const uint8_t>(*digest).first(digest->size() - 1);
	FUZZ_CHECK(!verify_digest(in, short_digest, fuzz::all_keys()));
}

void fuzz_evm(std::span<const uint8_t> in)
{
	auto evm = fuzz::decode_evm_input(in);
	if (!evm)
		return;
	auto r = evm_portable_verify(evm->value, evm->xattrs, evm->meta, fuzz::all_keys());
	FUZZ_CHECK(!r || parse_signature_v2(evm->value));
	(void)evm_portable_digest(HashAlgo::sha256, evm->xattrs, evm->meta);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	std::span<const uint8_t> rest(data + 1, size - 1);
	switch (static_cast<fuzz::DigsigMode>(data[0] % 3)) {
	case fuzz::DigsigMode::parse:
		fuzz_parse(rest);
		break;
	case fuzz::DigsigMode::verify:
		fuzz_verify(rest);
		break;
	case fuzz::DigsigMode::evm:
		fuzz_evm(rest);
		break;
	}
	return 0;
}
