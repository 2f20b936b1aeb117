#include "fixtures.h"
#include "imainit/hash.h"
#include "imainit/io.h"
#include "imainit/keys.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

using namespace imainit;
using namespace fixtures;

namespace
{

// A minimal self-signed certificate for key, DER.
Bytes self_signed_der(EVP_PKEY *key)
{
	ossl::X509Ptr x(X509_new());
	REQUIRE(x);
	REQUIRE(X509_set_version(x.get(), X509_VERSION_3));
	REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1));
	X509_NAME *name = X509_get_subject_name(x.get());
	REQUIRE(X509_NAME_add_entry_by_txt(
	    name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("fresh"), -1, -1, 0));
	REQUIRE(X509_set_issuer_name(x.get(), name));
	REQUIRE(X509_gmtime_adj(X509_getm_notBefore(x.get()), 0));
	REQUIRE(X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600));
	REQUIRE(X509_set_pubkey(x.get(), key));
	REQUIRE(X509_sign(x.get(), key, EVP_sha256()) > 0);
	unsigned char *der = nullptr;
	int len = i2d_X509(x.get(), &der);
	REQUIRE(len > 0);
	Bytes out(der, der + len);
	OPENSSL_free(der);
	return out;
}

void write_text(const std::string &path, const std::string &text)
{
	REQUIRE(write_file_atomic(path, as_bytes(text), 0600));
}

std::string pem_private(EVP_PKEY *key, const char *pass = nullptr)
{
	ossl::Bio bio(BIO_new(BIO_s_mem()));
	if (pass)
		REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key, EVP_aes_256_cbc(),
						 reinterpret_cast<const unsigned char *>(pass),
						 static_cast<int>(strlen(pass)), nullptr,
						 nullptr) == 1);
	else
		REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
						 nullptr) == 1);
	char *p = nullptr;
	long n = BIO_get_mem_data(bio.get(), &p);
	return std::string(p, static_cast<size_t>(n));
}

Bytes der_pubkey(EVP_PKEY *key)
{
	unsigned char *der = nullptr;
	int len = i2d_PUBKEY(key, &der);
	REQUIRE(len > 0);
	Bytes out(der, der + len);
	OPENSSL_free(der);
	return out;
}

std::string pem_pubkey(EVP_PKEY *key)
{
	ossl::Bio bio(BIO_new(BIO_s_mem()));
	REQUIRE(PEM_write_bio_PUBKEY(bio.get(), key) == 1);
	char *p = nullptr;
	long n = BIO_get_mem_data(bio.get(), &p);
	return std::string(p, static_cast<size_t>(n));
}

} // namespace

TEST_CASE("private keys load and their keyid equals the certificate's SKID")
{
	struct Case {
		std::string key, cert;
		int type;
		uint32_t keyid; // last 4 bytes of the cert's subjectKeyIdentifier
	} cases[] = {
		{ "privkey_ima.pem", "x509_ima.der", EVP_PKEY_EC, 0x8d69f415 },
		{ "privkey_evm.pem", "x509_evm.der", EVP_PKEY_EC, 0x2f9ccfe8 },
		{ "rsa/privkey_ima.pem", "rsa/x509_ima.der", EVP_PKEY_RSA, 0xe4b8f0b1 },
		{ "rsa/privkey_evm.pem", "rsa/x509_evm.der", EVP_PKEY_RSA, 0xba519850 },
	};
	for (auto &c : cases) {
		CAPTURE(c.key);
		auto key = load_private_key(debug_dir + "/" + c.key);
		REQUIRE_MESSAGE(key, why(key));
		CHECK(EVP_PKEY_get_base_id(key->get()) == c.type);
		CHECK(key->path == debug_dir + "/" + c.key);
		auto cert = load_public_key(debug_dir + "/" + c.cert);
		REQUIRE_MESSAGE(cert, why(cert));
		CHECK(cert->keyid() == c.keyid);
		// SHA-1 over the public key (evmctl) equals SKID "hash".
		CHECK(key->keyid() == c.keyid);
		CHECK(keyid_from_pkey(cert->get()) == c.keyid);
		CHECK(key_matches(*key, *cert));
	}
}

TEST_CASE("public keys are sniffed: DER and PEM certificates, DER and PEM bare keys")
{
	TempDir tmp;
	auto der = load_public_key(debug_dir + "/x509_ima.der");
	REQUIRE(der);
	CHECK(der->cert() != nullptr);
	CHECK(der->der() == *read_file(debug_dir + "/x509_ima.der"));
	CHECK(der->subject().find("CN=IMA signing key") != std::string::npos);

	auto pem = load_public_key(debug_dir + "/ima-local-ca.pem");
	REQUIRE_MESSAGE(pem, why(pem));
	CHECK(pem->cert() != nullptr);
	CHECK(pem->subject().find("CN=DEBUG ima-initramfs CA") != std::string::npos);
	// The certificate DER is kept (it is what goes into the keyring).
	auto ca_der = load_public_key(debug_dir + "/ima-local-ca.x509");
	REQUIRE(ca_der);
	CHECK(pem->der() == ca_der->der());

	Bytes spki = der_pubkey(der->get());
	auto bare = parse_public_key(spki, "spki.der");
	REQUIRE_MESSAGE(bare, why(bare));
	CHECK(bare->cert() == nullptr);
	CHECK(bare->der().empty());
	CHECK(bare->subject().empty());
	CHECK(bare->keyid() == der->keyid());
	CHECK(bare->path == "spki.der");

	write_text(tmp / "pub.pem", pem_pubkey(der->get()));
	auto bare_pem = load_public_key(tmp / "pub.pem");
	REQUIRE_MESSAGE(bare_pem, why(bare_pem));
	CHECK(bare_pem->cert() == nullptr);
	CHECK(EVP_PKEY_eq(bare_pem->get(), der->get()) == 1);
	CHECK(bare_pem->keyid() == 0x8d69f415);

	auto rsa = load_public_key(debug_dir + "/rsa/x509_ima.der");
	REQUIRE(rsa);
	auto rsa_bare = parse_public_key(der_pubkey(rsa->get()), "rsa.der");
	REQUIRE(rsa_bare);
	CHECK(rsa_bare->keyid() == rsa->keyid());
}

TEST_CASE("a certificate's keyid comes from its SKID even when that is not the key hash")
{
	TempDir tmp;
	std::string cmd = "openssl req -x509 -new -key " + debug_dir +
			  "/privkey_ima.pem -subj /CN=skid-test -days 1"
			  " -addext subjectKeyIdentifier=00112233445566778899aabbccddeeff01020304"
			  " -outform DER -out " +
			  (tmp / "c.der") + " 2>/dev/null";
	REQUIRE(std::system(cmd.c_str()) == 0);
	auto c = load_public_key(tmp / "c.der");
	REQUIRE_MESSAGE(c, why(c));
	CHECK(c->keyid() == 0x01020304);
	CHECK(keyid_from_pkey(c->get()) == 0x8d69f415);
	CHECK(c->subject() == "CN=skid-test");

	// Without a SKID the keyid falls back to the key hash.
	cmd = "openssl req -x509 -new -key " + debug_dir +
	      "/privkey_ima.pem -subj /CN=no-skid -days 1 -addext subjectKeyIdentifier=none"
	      " -outform DER -out " +
	      (tmp / "n.der") + " 2>/dev/null";
	REQUIRE(std::system(cmd.c_str()) == 0);
	auto n = load_public_key(tmp / "n.der");
	REQUIRE_MESSAGE(n, why(n));
	CHECK(X509_get0_subject_key_id(n->cert()) == nullptr);
	CHECK(n->keyid() == 0x8d69f415);
}

TEST_CASE("bad public key input is reported")
{
	TempDir tmp;
	auto priv = load_public_key(debug_dir + "/privkey_ima.pem");
	REQUIRE_FALSE(priv);
	CHECK(priv.error().msg.find("is a private key") != std::string::npos);

	auto junk = parse_public_key(as_bytes("this is not a key"), "junk");
	REQUIRE_FALSE(junk);
	CHECK(junk.error().msg == "junk: not an X.509 certificate or public key (PEM or DER)");

	// DER with trailing garbage is not silently accepted.
	Bytes der = *read_file(debug_dir + "/x509_ima.der");
	der.push_back(0);
	auto trailing = parse_public_key(der, "trailing");
	REQUIRE_FALSE(trailing);
	CHECK(trailing.error().msg.find("not an X.509 certificate") != std::string::npos);

	auto badpem = parse_public_key(as_bytes("-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
						"CERTIFICATE-----\n"),
				       "bad.pem");
	REQUIRE_FALSE(badpem);
	CHECK(badpem.error().msg.find("bad.pem: bad PEM certificate") == 0);

	auto badkey = parse_public_key(as_bytes("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END "
						"PUBLIC KEY-----\n"),
				       "bad.pub");
	REQUIRE_FALSE(badkey);
	CHECK(badkey.error().msg.find("bad.pub: bad PEM public key") == 0);

	auto other = parse_public_key(as_bytes("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 "
					       "CRL-----\n"),
				      "crl.pem");
	REQUIRE_FALSE(other);
	CHECK(other.error().msg ==
	      "crl.pem: PEM file holds neither a CERTIFICATE nor a PUBLIC KEY");

	auto missing = load_public_key(tmp / "missing.der");
	REQUIRE_FALSE(missing);
	CHECK(missing.error().err == ENOENT);
	CHECK(missing.error().msg.find("loading certificate") == 0);
}

TEST_CASE("encrypted private keys take the passphrase from a file or the environment")
{
	TempDir tmp;
	auto plain = load_private_key(debug_dir + "/privkey_ima.pem");
	REQUIRE(plain);
	write_text(tmp / "enc.pem", pem_private(plain->get(), "s3cret pass"));

	SUBCASE("no passphrase source")
	{
		auto k = load_private_key(tmp / "enc.pem");
		REQUIRE_FALSE(k);
		CHECK(k.error().msg == tmp / "enc.pem" +
					   ": private key is encrypted and no passphrase was given "
					   "(use a passphrase file or environment variable)");
	}
	SUBCASE("passphrase file, first line only")
	{
		write_text(tmp / "pass", "s3cret pass\nsecond line\n");
		auto k = load_private_key(tmp / "enc.pem", { .file = tmp / "pass" });
		REQUIRE_MESSAGE(k, why(k));
		CHECK(EVP_PKEY_eq(k->get(), plain->get()) == 1);
		CHECK(k->keyid() == 0x8d69f415);
	}
	SUBCASE("wrong passphrase")
	{
		write_text(tmp / "pass", "wrong\n");
		auto k = load_private_key(tmp / "enc.pem", { .file = tmp / "pass" });
		REQUIRE_FALSE(k);
		CHECK(k.error().msg ==
		      tmp / "enc.pem" + ": wrong passphrase for encrypted private key");
	}
	SUBCASE("missing passphrase file")
	{
		auto k = load_private_key(tmp / "enc.pem", { .file = tmp / "nope" });
		REQUIRE_FALSE(k);
		CHECK(k.error().err == ENOENT);
		CHECK(k.error().msg.find("reading passphrase file") != std::string::npos);
	}
	SUBCASE("environment variable")
	{
		setenv("IMAINIT_TEST_PASS", "s3cret pass", 1);
		auto k = load_private_key(tmp / "enc.pem", { .env = "IMAINIT_TEST_PASS" });
		unsetenv("IMAINIT_TEST_PASS");
		REQUIRE_MESSAGE(k, why(k));
		CHECK(EVP_PKEY_eq(k->get(), plain->get()) == 1);
	}
	SUBCASE("environment variable not set")
	{
		unsetenv("IMAINIT_TEST_PASS_UNSET");
		auto k = load_private_key(tmp / "enc.pem", { .env = "IMAINIT_TEST_PASS_UNSET" });
		REQUIRE_FALSE(k);
		CHECK(
		    k.error().msg.find("passphrase environment variable IMAINIT_TEST_PASS_UNSET is "
				       "not set") != std::string::npos);
	}
	SUBCASE("a passphrase given for a plain key is harmless")
	{
		setenv("IMAINIT_TEST_PASS", "unused", 1);
		auto k = load_private_key(debug_dir + "/privkey_ima.pem",
					  { .env = "IMAINIT_TEST_PASS" });
		unsetenv("IMAINIT_TEST_PASS");
		CHECK(k);
	}
}

TEST_CASE("bad private key input is reported")
{
	TempDir tmp;
	auto cert = load_private_key(debug_dir + "/ima-local-ca.pem");
	REQUIRE_FALSE(cert);
	CHECK(cert.error().msg.find(debug_dir + "/ima-local-ca.pem: not a PEM private key") == 0);

	auto missing = load_private_key(tmp / "missing.pem");
	REQUIRE_FALSE(missing);
	CHECK(missing.error().err == ENOENT);

	ossl::PKey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
	REQUIRE(ed);
	write_text(tmp / "ed.pem", pem_private(ed.get()));
	auto k = load_private_key(tmp / "ed.pem");
	REQUIRE_FALSE(k);
	CHECK(k.error().msg == tmp / "ed.pem" + ": key type ED25519 not supported (use RSA or EC)");
}

TEST_CASE("key_matches and cert_signed_by")
{
	auto ima = load_private_key(debug_dir + "/privkey_ima.pem");
	auto ima_cert = load_public_key(debug_dir + "/x509_ima.der");
	auto evm_cert = load_public_key(debug_dir + "/x509_evm.der");
	auto rsa_cert = load_public_key(debug_dir + "/rsa/x509_ima.der");
	auto ca = load_public_key(debug_dir + "/ima-local-ca.pem");
	auto other_ca = load_public_key(debug_dir + "/untrusted/ima-local-ca.pem");
	auto other_cert = load_public_key(debug_dir + "/untrusted/x509_ima.der");
	REQUIRE((ima && ima_cert && evm_cert && rsa_cert && ca && other_ca && other_cert));

	CHECK(key_matches(*ima, *ima_cert));
	auto m = key_matches(*ima, *evm_cert);
	REQUIRE_FALSE(m);
	CHECK(m.error().msg == "private key " + debug_dir +
				   "/privkey_ima.pem does not match the public key in " +
				   debug_dir + "/x509_evm.der");
	CHECK_FALSE(key_matches(*ima, *rsa_cert));

	CHECK(cert_signed_by(*ima_cert, *ca));
	CHECK(cert_signed_by(*rsa_cert, *ca));
	CHECK(cert_signed_by(*other_cert, *other_ca));
	auto s = cert_signed_by(*other_cert, *ca);
	REQUIRE_FALSE(s);
	CHECK(s.error().msg == debug_dir + "/untrusted/x509_ima.der: certificate is not signed by "
					   "O=ima-initramfs,CN=DEBUG ima-initramfs CA - NOT FOR "
					   "PRODUCTION,emailAddress=ca@ima-ca");
	CHECK_FALSE(cert_signed_by(*ima_cert, *other_ca));

	auto bare = parse_public_key(der_pubkey(ima_cert->get()), "bare");
	REQUIRE(bare);
	auto b = cert_signed_by(*bare, *ca);
	REQUIRE_FALSE(b);
	CHECK(b.error().msg == "bare: is a bare public key, not a certificate");
}

TEST_CASE("every key in keys/debug is a debug key, a fresh key is not")
{
	const std::string files[] = {
		"ima-local-ca.priv",	       "privkey_evm.pem",	    "privkey_ima.pem",
		"privkey_payload.pem",	       "rsa/privkey_evm.pem",	    "rsa/privkey_ima.pem",
		"untrusted/ima-local-ca.priv", "untrusted/privkey_ima.pem",
	};
	for (auto &f : files) {
		CAPTURE(f);
		auto k = load_private_key(debug_dir + "/" + f);
		REQUIRE_MESSAGE(k, why(k));
		CHECK(is_debug_key(k->get()));
	}
	const std::string certs[] = {
		"ima-local-ca.pem", "ima-local-ca.x509",	  "x509_evm.der",
		"x509_ima.der",	    "x509_payload.der",		  "rsa/x509_evm.der",
		"rsa/x509_ima.der", "untrusted/ima-local-ca.pem", "untrusted/x509_ima.der",
	};
	for (auto &f : certs) {
		CAPTURE(f);
		auto c = load_public_key(debug_dir + "/" + f);
		REQUIRE_MESSAGE(c, why(c));
		CHECK(is_debug_key(c->get()));
		CHECK(is_debug_key(*c)); // from the certificate's own encoding
	}

	// Every private key file in keys/debug is covered by the list above.
	size_t seen = 0;
	for (auto &e : std::filesystem::recursive_directory_iterator(debug_dir)) {
		auto name = e.path().filename().string();
		if (name.ends_with(".priv") || name.starts_with("privkey_"))
			seen++;
	}
	CHECK(seen == std::size(files));

	ossl::PKey ec(EVP_EC_gen("P-256"));
	REQUIRE(ec);
	CHECK_FALSE(is_debug_key(ec.get()));
	ossl::PKey rsa(EVP_RSA_gen(2048));
	REQUIRE(rsa);
	CHECK_FALSE(is_debug_key(rsa.get()));

	// A fresh certificate, and a bare public key, by their PublicKey.
	auto fresh = parse_public_key(self_signed_der(ec.get()), "fresh");
	REQUIRE_MESSAGE(fresh, why(fresh));
	REQUIRE(fresh->cert());
	CHECK_FALSE(is_debug_key(*fresh));
	unsigned char *spki = nullptr;
	int len = i2d_PUBKEY(ec.get(), &spki);
	REQUIRE(len > 0);
	Bytes bare(spki, spki + len);
	OPENSSL_free(spki);
	auto bare_key = parse_public_key(bare, "bare");
	REQUIRE_MESSAGE(bare_key, why(bare_key));
	CHECK_FALSE(bare_key->cert());
	CHECK_FALSE(is_debug_key(*bare_key));
	auto debug_bare = load_public_key(debug_dir + "/x509_ima.der");
	REQUIRE(debug_bare);
	spki = nullptr;
	len = i2d_PUBKEY(debug_bare->get(), &spki);
	REQUIRE(len > 0);
	Bytes debug_spki(spki, spki + len);
	OPENSSL_free(spki);
	auto k = parse_public_key(debug_spki, "debug bare");
	REQUIRE_MESSAGE(k, why(k));
	CHECK(is_debug_key(*k));
}
