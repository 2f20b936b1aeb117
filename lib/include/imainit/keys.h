// Private keys, public keys and X.509 certificates, and the 32-bit key id
// the kernel matches a signature against.
#pragma once

#include "imainit/io.h"
#include "imainit/ossl.h"
#include "imainit/result.h"

#include <cstdint>
#include <optional>
#include <string>

namespace imainit {

// Where a private key's passphrase comes from. Never argv: it would show in
// /proc/<pid>/cmdline and in shell history.
struct Passphrase {
	std::string file; // first line of this file (trailing newline dropped)
	std::string env;  // name of an environment variable
};

class PrivateKey {
      public:
	EVP_PKEY *get() const { return key_.get(); }
	// keyid the signature header carries: set from a certificate's SKID with
	// set_keyid(), otherwise SHA-1 of the public key (as evmctl computes).
	uint32_t keyid() const { return keyid_; }
	void set_keyid(uint32_t id) { keyid_ = id; }
	std::string path;

	PrivateKey(ossl::PKey k, uint32_t id) : key_(std::move(k)), keyid_(id) {}

      private:
	ossl::PKey key_;
	uint32_t keyid_ = 0;
};

// A verification key: from an X.509 certificate (PEM or DER) or a bare
// public key (PEM or DER SubjectPublicKeyInfo).
class PublicKey {
      public:
	EVP_PKEY *get() const { return key_.get(); }
	// Last 4 bytes of the subjectKeyIdentifier when a certificate carries
	// one, otherwise SHA-1 of the public key: what the kernel's asymmetric
	// key subsystem indexes the key by.
	uint32_t keyid() const { return keyid_; }
	X509 *cert() const { return cert_.get(); } // nullptr for a bare key
	const Bytes &der() const { return der_; }  // certificate DER (empty for a bare key)
	std::string path;
	std::string subject() const;

	PublicKey(ossl::PKey k, ossl::X509Ptr c, Bytes der, uint32_t id)
	    : key_(std::move(k)), cert_(std::move(c)), der_(std::move(der)), keyid_(id)
	{
	}

      private:
	ossl::PKey key_;
	ossl::X509Ptr cert_;
	Bytes der_;
	uint32_t keyid_ = 0;
};

// The largest key or certificate file read: far above any real one, a
// bound on a bad file.
inline constexpr size_t max_key_file_size = 1u << 20;

// PEM private key (RSA or EC), optionally encrypted.
Result<PrivateKey> load_private_key(const std::string &path, const Passphrase &pass = {});
// Certificate or public key, PEM or DER, sniffed from the content.
Result<PublicKey> load_public_key(const std::string &path);
Result<PublicKey> parse_public_key(std::span<const uint8_t> data, const std::string &name);

// SHA-1 over the DER public key (RSAPublicKey / EC point), last 4 bytes,
// big-endian: evmctl's calc_keyid_v2 and the SKID "hash" method agree.
uint32_t keyid_from_pkey(EVP_PKEY *key);

// Fails unless the private key and the certificate hold the same key pair.
Status key_matches(const PrivateKey &key, const PublicKey &cert);

// Checks that cert is signed by ca (signature only; no time checks: early
// boot has no trustworthy clock).
Status cert_signed_by(const PublicKey &cert, const PublicKey &ca);

// True when the public key is the one in the debug key set shipped in
// keys/debug/: the packer refuses those without --allow-debug-keys.
bool is_debug_key(EVP_PKEY *key);
bool is_debug_key(const PublicKey &key);

} // namespace imainit
