// The kernel's digital signature xattr, version 2
// (security/integrity/integrity.h: struct signature_v2_hdr):
//
//   u8 type | u8 version=2 | u8 hash_algo | be32 keyid | be16 sig_size | sig
//
// type is 0x03 (EVM_IMA_XATTR_DIGSIG) in security.ima and 0x05
// (EVM_XATTR_PORTABLE_DIGSIG) in security.evm. The signature is made over
// the raw digest: RSA PKCS#1 v1.5 with DigestInfo, or ECDSA (X9.62 DER).
#pragma once

#include "imainit/hash.h"
#include "imainit/io.h"
#include "imainit/keys.h"

#include <span>
#include <vector>

namespace imainit {

enum class SigType : uint8_t {
	ima_digsig = 0x03,
	evm_portable = 0x05,
};

struct SignatureV2 {
	SigType type;
	HashAlgo algo;
	uint32_t keyid;
	Bytes sig;
};

constexpr size_t signature_v2_hdr_size = 9;

// Strict parse: exact length, version 2, known type and hash.
Result<SignatureV2> parse_signature_v2(std::span<const uint8_t> value);
Bytes serialize_signature_v2(const SignatureV2 &s);

// Signs a digest made with algo; returns the whole xattr value.
Result<Bytes> sign_digest(const PrivateKey &key, HashAlgo algo, std::span<const uint8_t> digest,
			  SigType type = SigType::ima_digsig);

// Verifies value (a whole xattr value) over digest with the key whose keyid
// matches the header; "no key with keyid X" is an error of its own.
Status verify_digest(std::span<const uint8_t> value, std::span<const uint8_t> digest,
		     std::span<const PublicKey *const> keys);

// Convenience for files: hash the file with algo and sign/verify.
Result<Bytes> ima_sign_file(const PrivateKey &key, HashAlgo algo, const std::string &path);
Status ima_verify_file(std::span<const uint8_t> value, const std::string &path,
		       std::span<const PublicKey *const> keys);
Result<Bytes> ima_sign_buffer(const PrivateKey &key, HashAlgo algo, std::span<const uint8_t> data);
Status ima_verify_buffer(std::span<const uint8_t> value, std::span<const uint8_t> data,
			 std::span<const PublicKey *const> keys);

} // namespace imainit
