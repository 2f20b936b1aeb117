#include "imainit/digsig.h"

#include <array>
#include <cstdio>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

namespace imainit
{

namespace
{

constexpr uint8_t sig_version = 2;

std::string hex32(uint32_t v)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%08x", v);
	return buf;
}

std::string type_byte_name(uint8_t t)
{
	// enum evm_ima_xattr_type in security/integrity/integrity.h
	switch (t) {
	case 0x01:
		return "IMA hash (0x01), not a signature";
	case 0x02:
		return "EVM HMAC (0x02), not a signature";
	case 0x04:
		return "IMA hash (0x04), not a signature";
	case 0x06:
		return "fs-verity signature (0x06), not supported";
	default: {
		char buf[8];
		std::snprintf(buf, sizeof(buf), "0x%02x", t);
		return std::string("unknown xattr type ") + buf;
	}
	}
}

std::string key_kind(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		return "RSA-" + std::to_string(EVP_PKEY_get_bits(key));
	case EVP_PKEY_EC:
		return "EC P-" + std::to_string(EVP_PKEY_get_bits(key));
	default: {
		const char *n = EVP_PKEY_get0_type_name(key);
		return n ? n : "unknown";
	}
	}
}

std::string key_name(const PublicKey &k)
{
	std::string s = k.subject();
	if (s.empty())
		s = k.path;
	return hex32(k.keyid()) + (s.empty() ? "" : " (" + s + ")");
}

// An ECDSA signature is a DER SEQUENCE of two INTEGERs; an RSA signature is
// a bare integer as long as the modulus. Telling them apart turns a bare
// "verification failed" into the real cause: the wrong kind of key.
bool looks_like_ecdsa(std::span<const uint8_t> sig)
{
	const uint8_t *p = sig.data();
	ECDSA_SIG *s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
	bool ok = s && p == sig.data() + sig.size();
	ECDSA_SIG_free(s);
	ERR_clear_error();
	return ok;
}

// The kernel verifies RSA PKCS#1 v1.5 and ECDSA P-256/P-384 only
// (crypto/rsa-pkcs1pad.c, crypto/ecdsa.c): refuse to make a signature that
// would fail only at boot.
Status check_key(EVP_PKEY *key)
{
	int bits = EVP_PKEY_get_bits(key);
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		if (bits < 2048 || bits > 4096)
			return fail("RSA-" + std::to_string(bits) +
				    " key not supported (use 2048 to 4096 bits)");
		return {};
	case EVP_PKEY_EC: {
		char g[32];
		size_t len = 0;
		std::string_view name;
		if (EVP_PKEY_get_group_name(key, g, sizeof(g), &len))
			name = std::string_view(g, len);
		else
			ERR_clear_error();
		if (name != "prime256v1" && name != "secp384r1")
			return fail("EC curve " + (name.empty() ? "(unnamed)" : std::string(name)) +
				    " not supported (use P-256 or P-384)");
		return {};
	}
	default:
		return fail("key type " + key_kind(key) + " not supported (use RSA or EC)");
	}
}

Status check_digest(HashAlgo algo, std::span<const uint8_t> digest)
{
	size_t want = hash_algo_size(algo);
	if (want == 0)
		return fail("unknown hash algorithm id " + std::to_string(static_cast<int>(algo)));
	if (digest.size() != want)
		return fail("digest is " + std::to_string(digest.size()) + " bytes, " +
			    std::string(hash_algo_name(algo)) + " needs " + std::to_string(want));
	return {};
}

// EVP_PKEY_CTX for sign or verify. The digest is already made: the context
// only needs the algorithm, for RSA's DigestInfo (ECDSA ignores it).
Result<ossl::PKeyCtx> make_ctx(EVP_PKEY *key, HashAlgo algo, bool sign)
{
	ossl::PKeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
	if (!ctx)
		return fail("EVP_PKEY_CTX_new: " + ossl::last_error());
	if ((sign ? EVP_PKEY_sign_init(ctx.get()) : EVP_PKEY_verify_init(ctx.get())) <= 0)
		return fail(std::string(sign ? "sign" : "verify") + " init: " + ossl::last_error());
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0)
		return fail("setting PKCS#1 v1.5 padding: " + ossl::last_error());
	if (EVP_PKEY_CTX_set_signature_md(ctx.get(), hash_algo_md(algo)) <= 0)
		return fail("setting signature digest: " + ossl::last_error());
	return ctx;
}

// Signing contexts, kept per thread. Making one (provider fetch, init,
// digest lookup, key checks) costs as much as an ECDSA signature and a tenth
// of an RSA one; a context may sign any number of times, but is not safe to
// share between threads, while the EVP_PKEY is. Each context holds a
// reference to its key, so a cached EVP_PKEY pointer cannot be freed and
// reused for another key while its entry exists.
struct SignCtx {
	EVP_PKEY *key = nullptr;
	HashAlgo algo = HashAlgo::sha256;
	ossl::PKeyCtx ctx;
};
constexpr size_t sign_cache_size = 4;
thread_local std::array<SignCtx, sign_cache_size> sign_cache;
thread_local size_t sign_cache_next = 0;

Result<SignCtx *> sign_ctx(const PrivateKey &key, HashAlgo algo)
{
	for (SignCtx &e : sign_cache)
		if (e.ctx && e.key == key.get() && e.algo == algo)
			return &e;
	if (auto r = check_key(key.get()); !r)
		return std::unexpected(r.error());
	auto ctx = make_ctx(key.get(), algo, true);
	if (!ctx)
		return std::unexpected(ctx.error());
	SignCtx &e = sign_cache[sign_cache_next++ % sign_cache_size];
	e = SignCtx{ key.get(), algo, std::move(*ctx) };
	return &e;
}

} // namespace

Result<SignatureV2> parse_signature_v2(std::span<const uint8_t> value)
{
	if (value.size() < signature_v2_hdr_size)
		return fail("signature truncated: " + std::to_string(value.size()) +
			    " bytes, header needs " + std::to_string(signature_v2_hdr_size));
	uint8_t type = value[0];
	if (type != static_cast<uint8_t>(SigType::ima_digsig) &&
	    type != static_cast<uint8_t>(SigType::evm_portable))
		return fail("not a version 2 signature: " + type_byte_name(type));
	if (value[1] != sig_version)
		return fail("unsupported signature version " + std::to_string(value[1]));
	auto algo = hash_algo_from_id(value[2]);
	if (!algo)
		return std::unexpected(algo.error());
	uint32_t keyid = (uint32_t(value[3]) << 24) | (uint32_t(value[4]) << 16) |
			 (uint32_t(value[5]) << 8) | value[6];
	size_t sig_size = (size_t(value[7]) << 8) | value[8];
	size_t follow = value.size() - signature_v2_hdr_size;
	if (sig_size != follow)
		return fail("sig_size " + std::to_string(sig_size) + " but " +
			    std::to_string(follow) + " bytes follow");
	if (sig_size == 0)
		return fail("empty signature (sig_size 0)");
	return SignatureV2{ static_cast<SigType>(type), *algo, keyid,
			    Bytes(value.begin() + signature_v2_hdr_size, value.end()) };
}

Bytes serialize_signature_v2(const SignatureV2 &s)
{
	Bytes out(signature_v2_hdr_size + s.sig.size());
	out[0] = static_cast<uint8_t>(s.type);
	out[1] = sig_version;
	out[2] = static_cast<uint8_t>(s.algo);
	out[3] = static_cast<uint8_t>(s.keyid >> 24);
	out[4] = static_cast<uint8_t>(s.keyid >> 16);
	out[5] = static_cast<uint8_t>(s.keyid >> 8);
	out[6] = static_cast<uint8_t>(s.keyid);
	out[7] = static_cast<uint8_t>(s.sig.size() >> 8);
	out[8] = static_cast<uint8_t>(s.sig.size());
	std::copy(s.sig.begin(), s.sig.end(), out.begin() + signature_v2_hdr_size);
	return out;
}

Result<Bytes> sign_digest(const PrivateKey &key, HashAlgo algo, std::span<const uint8_t> digest,
			  SigType type)
{
	if (auto r = check_digest(algo, digest); !r)
		return std::unexpected(r.error());
	auto ctx = sign_ctx(key, algo);
	if (!ctx)
		return wrap(ctx.error(), key.path);

	// Sign straight behind the header: no second copy of the signature.
	size_t len = static_cast<size_t>(EVP_PKEY_get_size(key.get()));
	Bytes out(signature_v2_hdr_size + len);
	if (EVP_PKEY_sign((*ctx)->ctx.get(), out.data() + signature_v2_hdr_size, &len,
			  digest.data(), digest.size()) <= 0) {
		(*ctx)->ctx.reset(); // its state is unknown now
		return fail(key.path + ": signing failed: " + ossl::last_error());
	}
	out.resize(signature_v2_hdr_size + len);
	uint32_t id = key.keyid();
	out[0] = static_cast<uint8_t>(type);
	out[1] = sig_version;
	out[2] = static_cast<uint8_t>(algo);
	out[3] = static_cast<uint8_t>(id >> 24);
	out[4] = static_cast<uint8_t>(id >> 16);
	out[5] = static_cast<uint8_t>(id >> 8);
	out[6] = static_cast<uint8_t>(id);
	out[7] = static_cast<uint8_t>(len >> 8);
	out[8] = static_cast<uint8_t>(len);
	return out;
}

Status verify_digest(std::span<const uint8_t> value, std::span<const uint8_t> digest,
		     std::span<const PublicKey *const> keys)
{
	auto sig = parse_signature_v2(value);
	if (!sig)
		return std::unexpected(sig.error());
	if (auto r = check_digest(sig->algo, digest); !r)
		return std::unexpected(r.error());

	// The kernel looks the key up by keyid alone (request_asymmetric_key):
	// the first key with that id decides, as it would at boot.
	const PublicKey *key = nullptr;
	for (const PublicKey *k : keys)
		if (k && k->keyid() == sig->keyid) {
			key = k;
			break;
		}
	if (!key)
		return fail("no key with keyid " + hex32(sig->keyid) + " among " +
			    std::to_string(keys.size()) + " keys");

	int id = EVP_PKEY_get_base_id(key->get());
	bool ecdsa_sig = looks_like_ecdsa(sig->sig);
	if (id == EVP_PKEY_EC && !ecdsa_sig)
		return fail("RSA signature but key " + key_name(*key) + " is " +
			    key_kind(key->get()));
	if (id == EVP_PKEY_RSA &&
	    sig->sig.size() != static_cast<size_t>(EVP_PKEY_get_size(key->get()))) {
		if (ecdsa_sig)
			return fail("EC signature but key " + key_name(*key) + " is " +
				    key_kind(key->get()));
		return fail("signature is " + std::to_string(sig->sig.size()) + " bytes but key " +
			    key_name(*key) + " is " + key_kind(key->get()));
	}

	auto ctx = make_ctx(key->get(), sig->algo, false);
	if (!ctx)
		return wrap(ctx.error(), key_name(*key));
	int rc = EVP_PKEY_verify(ctx->get(), sig->sig.data(), sig->sig.size(), digest.data(),
				 digest.size());
	if (rc != 1) {
		ERR_clear_error();
		return fail("signature does not verify with key " + key_name(*key) + " (" +
			    std::string(hash_algo_name(sig->algo)) + ")");
	}
	return {};
}

Result<Bytes> ima_sign_buffer(const PrivateKey &key, HashAlgo algo, std::span<const uint8_t> data)
{
	auto d = digest_buffer(algo, data);
	if (!d)
		return std::unexpected(d.error());
	return sign_digest(key, algo, *d, SigType::ima_digsig);
}

Result<Bytes> ima_sign_file(const PrivateKey &key, HashAlgo algo, const std::string &path)
{
	auto d = digest_file(algo, path);
	if (!d)
		return std::unexpected(d.error());
	auto s = sign_digest(key, algo, *d, SigType::ima_digsig);
	if (!s)
		return wrap(s.error(), "signing " + path);
	return s;
}

namespace
{

// security.ima must carry an IMA signature: the kernel's IMA appraisal
// rejects an EVM portable signature there (ima_appraise.c: xattr type).
Result<HashAlgo> ima_sig_algo(std::span<const uint8_t> value)
{
	auto sig = parse_signature_v2(value);
	if (!sig)
		return std::unexpected(sig.error());
	if (sig->type != SigType::ima_digsig)
		return fail("not an IMA signature: type 0x05 is an EVM portable signature");
	return sig->algo;
}

} // namespace

Status ima_verify_buffer(std::span<const uint8_t> value, std::span<const uint8_t> data,
			 std::span<const PublicKey *const> keys)
{
	auto algo = ima_sig_algo(value);
	if (!algo)
		return std::unexpected(algo.error());
	auto d = digest_buffer(*algo, data);
	if (!d)
		return std::unexpected(d.error());
	return verify_digest(value, *d, keys);
}

Status ima_verify_file(std::span<const uint8_t> value, const std::string &path,
		       std::span<const PublicKey *const> keys)
{
	auto algo = ima_sig_algo(value);
	if (!algo)
		return wrap(algo.error(), path);
	auto d = digest_file(*algo, path);
	if (!d)
		return std::unexpected(d.error());
	if (auto r = verify_digest(value, *d, keys); !r)
		return wrap(r.error(), path);
	return {};
}

} // namespace imainit
