#include "imainit/keys.h"

#include "imainit/hash.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <string_view>

namespace imainit
{

namespace
{

struct PassState {
	const std::string *pass = nullptr; // nullptr: no passphrase source given
	bool asked = false;		   // OpenSSL needed one: the key is encrypted
};

// Our own callback even without a passphrase: OpenSSL's default one would
// prompt on the terminal, which a packer running in a build must never do.
int pass_cb(char *buf, int size, int, void *u)
{
	auto *st = static_cast<PassState *>(u);
	st->asked = true;
	if (!st->pass)
		return -1;
	size_t n = st->pass->size();
	if (n > static_cast<size_t>(size))
		return -1;
	std::memcpy(buf, st->pass->data(), n);
	return static_cast<int>(n);
}

Result<std::string> read_passphrase(const Passphrase &p)
{
	if (!p.file.empty()) {
		auto data = read_file(p.file, 64 * 1024);
		if (!data)
			return wrap(data.error(), "reading passphrase file");
		std::string s(data->begin(), data->end());
		s = s.substr(0, s.find('\n'));
		if (!s.empty() && s.back() == '\r')
			s.pop_back();
		std::fill(data->begin(), data->end(), 0);
		return s;
	}
	const char *v = std::getenv(p.env.c_str());
	if (!v)
		return fail("passphrase environment variable " + p.env + " is not set");
	return std::string(v);
}

// Key sizes and curves are checked where a signature is made
// (sign_digest); here only the kinds a signature header can carry.
Status check_key_type(EVP_PKEY *key, const std::string &name)
{
	int id = EVP_PKEY_get_base_id(key);
	if (id == EVP_PKEY_RSA || id == EVP_PKEY_EC)
		return {};
	const char *t = EVP_PKEY_get0_type_name(key);
	return fail(name + ": key type " + std::string(t ? t : "unknown") +
		    " not supported (use RSA or EC)");
}

bool contains(std::span<const uint8_t> data, std::string_view s)
{
	std::string_view v(reinterpret_cast<const char *>(data.data()), data.size());
	return v.find(s) != std::string_view::npos;
}

// keyid of a certificate: the kernel's x509 parser indexes the key by its
// subjectKeyIdentifier, and IMA looks it up by the SKID's last 4 bytes.
uint32_t keyid_from_cert(X509 *cert, EVP_PKEY *key)
{
	const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(cert);
	if (!skid || ASN1_STRING_length(skid) < 4)
		return keyid_from_pkey(key);
	const uint8_t *p = ASN1_STRING_get0_data(skid) + ASN1_STRING_length(skid) - 4;
	return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

Result<PublicKey> from_cert(ossl::X509Ptr cert, const std::string &name)
{
	ossl::PKey key(X509_get_pubkey(cert.get()));
	if (!key)
		return fail(name + ": certificate has no usable public key: " + ossl::last_error());
	int len = i2d_X509(cert.get(), nullptr);
	if (len <= 0)
		return fail(name + ": cannot re-encode certificate: " + ossl::last_error());
	Bytes der(static_cast<size_t>(len));
	uint8_t *p = der.data();
	i2d_X509(cert.get(), &p);
	uint32_t id = keyid_from_cert(cert.get(), key.get());
	PublicKey pk(std::move(key), std::move(cert), std::move(der), id);
	pk.path = name;
	return pk;
}

Result<PublicKey> from_pkey(ossl::PKey key, const std::string &name)
{
	uint32_t id = keyid_from_pkey(key.get());
	PublicKey pk(std::move(key), nullptr, {}, id);
	pk.path = name;
	return pk;
}

} // namespace

uint32_t keyid_from_pkey(EVP_PKEY *key)
{
	// evmctl's calc_keyid_v2: SHA-1 over the subjectPublicKey BIT STRING
	// contents (PKCS#1 RSAPublicKey for RSA, the point for EC), which is
	// RFC 5280's method 1 and so what "subjectKeyIdentifier=hash" writes.
	X509_PUBKEY *pk = nullptr;
	const unsigned char *data = nullptr;
	int len = 0;
	uint32_t id = 0;
	if (X509_PUBKEY_set(&pk, key) &&
	    X509_PUBKEY_get0_param(nullptr, &data, &len, nullptr, pk)) {
		uint8_t sha1[SHA_DIGEST_LENGTH];
		SHA1(data, static_cast<size_t>(len), sha1);
		id = (uint32_t(sha1[16]) << 24) | (uint32_t(sha1[17]) << 16) |
		     (uint32_t(sha1[18]) << 8) | sha1[19];
	}
	X509_PUBKEY_free(pk);
	return id;
}

Result<PrivateKey> load_private_key(const std::string &path, const Passphrase &pass)
{
	auto data = read_file(path, max_key_file_size);
	if (!data)
		return wrap(data.error(), "loading private key");

	std::string secret;
	PassState st;
	if (!pass.file.empty() || !pass.env.empty()) {
		auto s = read_passphrase(pass);
		if (!s)
			return wrap(s.error(), path);
		secret = std::move(*s);
		st.pass = &secret;
	}

	ossl::Bio bio(BIO_new_mem_buf(data->data(), static_cast<int>(data->size())));
	if (!bio)
		return fail("BIO_new_mem_buf: " + ossl::last_error());
	ERR_clear_error();
	ossl::PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, pass_cb, &st));
	OPENSSL_cleanse(secret.data(), secret.size());
	std::fill(data->begin(), data->end(), 0);
	if (!key) {
		std::string detail = ossl::last_error();
		if (st.asked && !st.pass)
			return fail(path + ": private key is encrypted and no passphrase was given "
					   "(use a passphrase file or environment variable)");
		if (st.asked)
			return fail(path + ": wrong passphrase for encrypted private key");
		return fail(path + ": not a PEM private key: " + detail);
	}
	if (auto r = check_key_type(key.get(), path); !r)
		return std::unexpected(r.error());
	uint32_t id = keyid_from_pkey(key.get());
	PrivateKey pk(std::move(key), id);
	pk.path = path;
	return pk;
}

Result<PublicKey> parse_public_key(std::span<const uint8_t> data, const std::string &name)
{
	ERR_clear_error();
	if (contains(data, "-----BEGIN ")) {
		ossl::Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
		if (!bio)
			return fail("BIO_new_mem_buf: " + ossl::last_error());
		if (contains(data, "-----BEGIN CERTIFICATE-----")) {
			ossl::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
			if (!cert)
				return fail(name + ": bad PEM certificate: " + ossl::last_error());
			return from_cert(std::move(cert), name);
		}
		if (contains(data, "-----BEGIN PUBLIC KEY-----")) {
			ossl::PKey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
			if (!key)
				return fail(name + ": bad PEM public key: " + ossl::last_error());
			return from_pkey(std::move(key), name);
		}
		if (contains(data, "PRIVATE KEY-----"))
			return fail(name +
				    ": is a private key, expected a certificate or public key");
		return fail(name + ": PEM file holds neither a CERTIFICATE nor a PUBLIC KEY");
	}

	const uint8_t *p = data.data();
	ossl::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
	if (cert && p == data.data() + data.size())
		return from_cert(std::move(cert), name);
	p = data.data();
	ossl::PKey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(data.size())));
	if (key && p == data.data() + data.size()) {
		ERR_clear_error();
		return from_pkey(std::move(key), name);
	}
	ERR_clear_error();
	return fail(name + ": not an X.509 certificate or public key (PEM or DER)");
}

Result<PublicKey> load_public_key(const std::string &path)
{
	auto data = read_file(path, max_key_file_size);
	if (!data)
		return wrap(data.error(), "loading certificate");
	return parse_public_key(*data, path);
}

std::string PublicKey::subject() const
{
	if (!cert_)
		return {};
	ossl::Bio bio(BIO_new(BIO_s_mem()));
	if (!bio)
		return {};
	// RFC 2253 escaping in certificate order (O=...,CN=...), as people read
	// it; UTF-8 left unescaped for log messages.
	X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert_.get()), 0,
			   (XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) & ~ASN1_STRFLGS_ESC_MSB);
	char *p = nullptr;
	long n = BIO_get_mem_data(bio.get(), &p);
	return n > 0 ? std::string(p, static_cast<size_t>(n)) : std::string();
}

Status key_matches(const PrivateKey &key, const PublicKey &cert)
{
	if (EVP_PKEY_eq(key.get(), cert.get()) == 1)
		return {};
	ERR_clear_error();
	return fail("private key " + key.path + " does not match the public key in " + cert.path);
}

Status cert_signed_by(const PublicKey &cert, const PublicKey &ca)
{
	if (!cert.cert())
		return fail(cert.path + ": is a bare public key, not a certificate");
	if (X509_verify(cert.cert(), ca.get()) == 1)
		return {};
	ERR_clear_error();
	std::string who = ca.subject().empty() ? ca.path : ca.subject();
	return fail(cert.path + ": certificate is not signed by " + who);
}

namespace
{

// spki: a DER SubjectPublicKeyInfo, owned by OpenSSL.
bool is_debug_spki(unsigned char *spki, int len)
{
	static constexpr std::string_view debug_keys[] = {
#include "debug_keys.inc"
	};
	if (len <= 0) {
		ERR_clear_error();
		return false;
	}
	auto d = digest_buffer(HashAlgo::sha256,
			       std::span<const uint8_t>(spki, static_cast<size_t>(len)));
	OPENSSL_free(spki);
	if (!d)
		return false;
	std::string hex = to_hex(*d);
	for (auto k : debug_keys)
		if (k == hex)
			return true;
	return false;
}

} // namespace

bool is_debug_key(EVP_PKEY *key)
{
	unsigned char *der = nullptr;
	int len = i2d_PUBKEY(key, &der);
	return is_debug_spki(der, len);
}

bool is_debug_key(const PublicKey &key)
{
	if (!key.cert())
		return is_debug_key(key.get());
	// The certificate's own SubjectPublicKeyInfo, re-encoded by its ASN.1
	// template: the same bytes as i2d_PUBKEY without OpenSSL's encoder
	// framework, which /init would otherwise run for this one check.
	unsigned char *der = nullptr;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(key.cert()), &der);
	return is_debug_spki(der, len);
}

} // namespace imainit
