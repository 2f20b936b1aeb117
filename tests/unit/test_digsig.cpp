#include "fixtures.h"
#include "imainit/digsig.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <sys/wait.h>
#include <thread>

using namespace imainit;
using namespace fixtures;

namespace
{

// A public key whose keyid is forced: lets a test aim a signature at a key
// of the wrong kind, as a mixed-up keyring would.
PublicKey with_keyid(EVP_PKEY *key, uint32_t id)
{
	EVP_PKEY_up_ref(key);
	PublicKey pk(ossl::PKey(key), nullptr, {}, id);
	pk.path = "forced";
	return pk;
}

Bytes hdr(uint8_t type, uint8_t version, uint8_t algo, uint32_t keyid, uint16_t size, size_t follow)
{
	Bytes v = { type,
		    version,
		    algo,
		    static_cast<uint8_t>(keyid >> 24),
		    static_cast<uint8_t>(keyid >> 16),
		    static_cast<uint8_t>(keyid >> 8),
		    static_cast<uint8_t>(keyid),
		    static_cast<uint8_t>(size >> 8),
		    static_cast<uint8_t>(size) };
	v.resize(v.size() + follow, 0xaa);
	return v;
}

std::string err_of(const Status &s)
{
	return s ? std::string("(success)") : s.error().msg;
}

} // namespace

TEST_CASE("signature_v2_hdr layout: packed, keyid and sig_size big-endian")
{
	SignatureV2 s{ SigType::ima_digsig, HashAlgo::sha256, 0x8d69f415, Bytes{ 1, 2, 3 } };
	Bytes v = serialize_signature_v2(s);
	CHECK(v == Bytes{ 0x03, 0x02, 0x04, 0x8d, 0x69, 0xf4, 0x15, 0x00, 0x03, 1, 2, 3 });

	auto p = parse_signature_v2(v);
	REQUIRE_MESSAGE(p, why(p));
	CHECK(p->type == SigType::ima_digsig);
	CHECK(p->algo == HashAlgo::sha256);
	CHECK(p->keyid == 0x8d69f415);
	CHECK(p->sig == Bytes{ 1, 2, 3 });

	Bytes big(300, 7);
	auto e = serialize_signature_v2({ SigType::evm_portable, HashAlgo::sha512, 1, big });
	CHECK(e[0] == 0x05);
	CHECK(e[2] == 6);
	CHECK(e[7] == 0x01);
	CHECK(e[8] == 0x2c);
	auto pe = parse_signature_v2(e);
	REQUIRE(pe);
	CHECK(pe->type == SigType::evm_portable);
	CHECK(pe->sig.size() == 300);
}

TEST_CASE("parse_signature_v2 is strict")
{
	auto msg = [](const Bytes &v) {
		auto p = parse_signature_v2(v);
		return p ? std::string("(parsed)") : p.error().msg;
	};
	CHECK(msg({}) == "signature truncated: 0 bytes, header needs 9");
	CHECK(msg({ 0x03, 0x02, 0x04, 0, 0, 0, 0, 1 }) ==
	      "signature truncated: 8 bytes, header needs 9");
	CHECK(msg(hdr(0x03, 2, 4, 1, 256, 250)) == "sig_size 256 but 250 bytes follow");
	CHECK(msg(hdr(0x03, 2, 4, 1, 64, 65)) == "sig_size 64 but 65 bytes follow");
	CHECK(msg(hdr(0x03, 2, 4, 1, 0, 0)) == "empty signature (sig_size 0)");
	CHECK(msg(hdr(0x03, 2, 9, 1, 4, 4)) == "unknown hash algorithm id 9");
	CHECK(msg(hdr(0x03, 1, 4, 1, 4, 4)) == "unsupported signature version 1");
	CHECK(msg(hdr(0x03, 3, 4, 1, 4, 4)) == "unsupported signature version 3");
	CHECK(msg(hdr(0x02, 2, 4, 1, 4, 4)) ==
	      "not a version 2 signature: EVM HMAC (0x02), not a signature");
	CHECK(msg(hdr(0x04, 2, 4, 1, 4, 4)) ==
	      "not a version 2 signature: IMA hash (0x04), not a signature");
	CHECK(msg(hdr(0x06, 2, 4, 1, 4, 4)) ==
	      "not a version 2 signature: fs-verity signature (0x06), not supported");
	CHECK(msg(hdr(0x7f, 2, 4, 1, 4, 4)) ==
	      "not a version 2 signature: unknown xattr type 0x7f");
	CHECK(msg(hdr(0x05, 2, 6, 1, 4, 4)) == "(parsed)");
}

TEST_CASE("sign and verify round trip: RSA and EC, every hash")
{
	const std::string keys[][2] = {
		{ "privkey_ima.pem", "x509_ima.der" },
		{ "rsa/privkey_ima.pem", "rsa/x509_ima.der" },
	};
	HashAlgo algos[] = { HashAlgo::sha256, HashAlgo::sha384, HashAlgo::sha512 };
	auto other = load_cert("x509_evm.der");
	for (auto &k : keys) {
		auto key = load_key(k[0]);
		auto cert = load_cert(k[1]);
		const PublicKey *ring[] = { &other, &cert };
		for (HashAlgo a : algos) {
			CAPTURE(k[0]);
			std::string algo(hash_algo_name(a));
			CAPTURE(algo);
			auto d = digest_buffer(a, as_bytes("payload"));
			REQUIRE(d);
			auto v = sign_digest(key, a, *d);
			REQUIRE_MESSAGE(v, why(v));
			auto p = parse_signature_v2(*v);
			REQUIRE(p);
			CHECK(p->type == SigType::ima_digsig);
			CHECK(p->algo == a);
			CHECK(p->keyid == cert.keyid());
			CHECK(verify_digest(*v, *d, ring));

			auto e = sign_digest(key, a, *d, SigType::evm_portable);
			REQUIRE(e);
			CHECK((*e)[0] == 0x05);
			CHECK(verify_digest(*e, *d, ring));
		}
	}
}

TEST_CASE("RSA PKCS#1 v1.5 signature carries the DigestInfo of its hash")
{
	auto key = load_key("rsa/privkey_ima.pem");
	auto d = digest_buffer(HashAlgo::sha256, as_bytes("x"));
	auto v = sign_digest(key, HashAlgo::sha256, *d);
	REQUIRE(v);
	auto p = parse_signature_v2(*v);
	REQUIRE(p);
	CHECK(p->sig.size() == 256);
	// Raw RSA public operation reveals the padded block.
	ossl::PKeyCtx ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
	REQUIRE(EVP_PKEY_verify_recover_init(ctx.get()) == 1);
	REQUIRE(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1);
	Bytes out(256);
	size_t len = out.size();
	REQUIRE(EVP_PKEY_verify_recover(ctx.get(), out.data(), &len, p->sig.data(),
					p->sig.size()) == 1);
	out.resize(len);
	const Bytes sha256_prefix = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				      0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	REQUIRE(out.size() == sha256_prefix.size() + 32);
	CHECK(Bytes(out.begin(), out.begin() + 19) == sha256_prefix);
	CHECK(Bytes(out.begin() + 19, out.end()) == *d);
}

TEST_CASE("sign_digest rejects what the kernel cannot verify")
{
	auto d = *digest_buffer(HashAlgo::sha256, as_bytes("x"));
	auto msg = [&](EVP_PKEY *pk) {
		EVP_PKEY_up_ref(pk);
		PrivateKey k(ossl::PKey(pk), 1);
		k.path = "k.pem";
		auto r = sign_digest(k, HashAlgo::sha256, d);
		return r ? std::string("(signed)") : r.error().msg;
	};
	ossl::PKey rsa1024(EVP_RSA_gen(1024));
	ossl::PKey rsa3072(EVP_RSA_gen(3072));
	ossl::PKey p384(EVP_EC_gen("P-384"));
	ossl::PKey p521(EVP_EC_gen("P-521"));
	ossl::PKey k1(EVP_EC_gen("secp256k1"));
	ossl::PKey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
	REQUIRE((rsa1024 && rsa3072 && p384 && p521 && k1 && ed));
	CHECK(msg(rsa1024.get()) == "k.pem: RSA-1024 key not supported (use 2048 to 4096 bits)");
	CHECK(msg(rsa3072.get()) == "(signed)");
	CHECK(msg(p384.get()) == "(signed)");
	CHECK(msg(p521.get()) == "k.pem: EC curve secp521r1 not supported (use P-256 or P-384)");
	CHECK(msg(k1.get()) == "k.pem: EC curve secp256k1 not supported (use P-256 or P-384)");
	CHECK(msg(ed.get()) == "k.pem: key type ED25519 not supported (use RSA or EC)");

	auto key = load_key("privkey_ima.pem");
	auto bad = sign_digest(key, HashAlgo::sha512, d);
	REQUIRE_FALSE(bad);
	CHECK(bad.error().msg == "digest is 32 bytes, sha512 needs 64");
	auto unknown = sign_digest(key, static_cast<HashAlgo>(9), d);
	REQUIRE_FALSE(unknown);
	CHECK(unknown.error().msg == "unknown hash algorithm id 9");
}

TEST_CASE("verify_digest names what is wrong")
{
	auto ec = load_key("privkey_ima.pem");
	auto ec_cert = load_cert("x509_ima.der");
	auto rsa = load_key("rsa/privkey_ima.pem");
	auto rsa_cert = load_cert("rsa/x509_ima.der");
	auto evm_cert = load_cert("x509_evm.der");
	auto d = *digest_buffer(HashAlgo::sha256, as_bytes("file content"));
	auto ec_sig = *sign_digest(ec, HashAlgo::sha256, d);
	auto rsa_sig = *sign_digest(rsa, HashAlgo::sha256, d);

	SUBCASE("wrong keyid")
	{
		const PublicKey *ring[] = { &evm_cert, &rsa_cert };
		CHECK(err_of(verify_digest(ec_sig, d, ring)) ==
		      "no key with keyid 0x8d69f415 among 2 keys");
		CHECK(err_of(verify_digest(ec_sig, d, {})) ==
		      "no key with keyid 0x8d69f415 among 0 keys");
	}
	SUBCASE("RSA signature, EC key")
	{
		auto forced = with_keyid(ec_cert.get(), rsa_cert.keyid());
		const PublicKey *ring[] = { &forced };
		CHECK(err_of(verify_digest(rsa_sig, d, ring)) ==
		      "RSA signature but key 0xe4b8f0b1 (forced) is EC P-256");
	}
	SUBCASE("EC signature, RSA key")
	{
		auto forced = with_keyid(rsa_cert.get(), ec_cert.keyid());
		const PublicKey *ring[] = { &forced };
		CHECK(err_of(verify_digest(ec_sig, d, ring)) ==
		      "EC signature but key 0x8d69f415 (forced) is RSA-2048");
	}
	SUBCASE("signature of the wrong length for the RSA key")
	{
		auto p = *parse_signature_v2(rsa_sig);
		p.sig.resize(255);
		const PublicKey *ring[] = { &rsa_cert };
		CHECK(err_of(verify_digest(serialize_signature_v2(p), d, ring)) ==
		      "signature is 255 bytes but key 0xe4b8f0b1 (O=ima-initramfs,CN=IMA signing "
		      "key,emailAddress=ima@ima-ca) is RSA-2048");
	}
	SUBCASE("flipped bit in the signature")
	{
		const PublicKey *ring[] = { &ec_cert, &rsa_cert };
		for (Bytes sig : { ec_sig, rsa_sig }) {
			// The last byte is part of the signature value (ECDSA's s).
			sig.back() ^= 0x01;
			std::string e = err_of(verify_digest(sig, d, ring));
			CHECK(e.find("signature does not verify with key 0x") == 0);
			CHECK(e.find("(sha256)") != std::string::npos);
		}
		Bytes sig = rsa_sig;
		sig[100] ^= 0x80;
		CHECK(err_of(verify_digest(sig, d, ring)).find("signature does not verify") == 0);
	}
	SUBCASE("wrong digest")
	{
		const PublicKey *ring[] = { &ec_cert, &rsa_cert };
		auto other = *digest_buffer(HashAlgo::sha256, as_bytes("file content!"));
		CHECK(err_of(verify_digest(ec_sig, other, ring))
			  .find("signature does not verify with key "
				"0x8d69f415") == 0);
		CHECK(err_of(verify_digest(rsa_sig, other, ring))
			  .find("signature does not verify with key "
				"0xe4b8f0b1") == 0);
		auto short_d = *digest_buffer(HashAlgo::sha1, as_bytes("file content"));
		CHECK(err_of(verify_digest(rsa_sig, short_d, ring)) ==
		      "digest is 20 bytes, sha256 needs 32");
	}
	SUBCASE("hash algorithm in the header is part of what is verified")
	{
		// The same digest bytes claimed as another algorithm: the RSA
		// DigestInfo no longer matches.
		auto d512 = *digest_buffer(HashAlgo::sha512, as_bytes("file content"));
		auto sig = *sign_digest(rsa, HashAlgo::sha512, d512);
		auto p = *parse_signature_v2(sig);
		p.algo = HashAlgo::sha256;
		const PublicKey *ring[] = { &rsa_cert };
		Bytes d32(d512.begin(), d512.begin() + 32);
		CHECK(err_of(verify_digest(serialize_signature_v2(p), d32, ring))
			  .find("signature does not "
				"verify") == 0);
	}
	SUBCASE("malformed header")
	{
		const PublicKey *ring[] = { &ec_cert };
		Bytes t(ec_sig.begin(), ec_sig.begin() + 5);
		CHECK(err_of(verify_digest(t, d, ring)) ==
		      "signature truncated: 5 bytes, header needs 9");
	}
}

TEST_CASE("ima_sign_buffer / ima_verify_buffer and files")
{
	TempDir tmp;
	auto key = load_key("privkey_ima.pem");
	auto cert = load_cert("x509_ima.der");
	const PublicKey *ring[] = { &cert };
	auto v = ima_sign_buffer(key, HashAlgo::sha384, as_bytes("data"));
	REQUIRE(v);
	CHECK(ima_verify_buffer(*v, as_bytes("data"), ring));
	CHECK(err_of(ima_verify_buffer(*v, as_bytes("date"), ring))
		  .find("signature does not verify") == 0);

	auto e =
	    sign_digest(key, HashAlgo::sha256, *digest_buffer(HashAlgo::sha256, as_bytes("data")),
			SigType::evm_portable);
	REQUIRE(e);
	CHECK(err_of(ima_verify_buffer(*e, as_bytes("data"), ring)) ==
	      "not an IMA signature: type 0x05 is an EVM portable signature");

	std::string f = tmp / "file";
	REQUIRE(write_file_atomic(f, as_bytes("file data")));
	auto fs = ima_sign_file(key, HashAlgo::sha256, f);
	REQUIRE(fs);
	CHECK(ima_verify_file(*fs, f, ring));
	CHECK(*fs != *v);
	REQUIRE(write_file_atomic(f, as_bytes("file data changed")));
	CHECK(err_of(ima_verify_file(*fs, f, ring)).find(f + ": signature does not verify") == 0);

	auto missing = ima_sign_file(key, HashAlgo::sha256, tmp / "missing");
	REQUIRE_FALSE(missing);
	CHECK(missing.error().err == ENOENT);
	CHECK(err_of(ima_verify_file(*fs, tmp / "missing", ring)).find("cannot open") == 0);
}

TEST_CASE("sign_digest is safe from several threads on one key")
{
	auto key = load_key("rsa/privkey_ima.pem");
	auto cert = load_cert("rsa/x509_ima.der");
	auto ec_key = load_key("privkey_ima.pem");
	auto ec_cert = load_cert("x509_ima.der");
	const PublicKey *ring[] = { &cert, &ec_cert };
	std::atomic<int> ok{ 0 };
	std::vector<std::thread> threads;
	for (int t = 0; t < 4; t++)
		threads.emplace_back([&, t] {
			for (int i = 0; i < 25; i++) {
				std::string s = "t" + std::to_string(t) + "i" + std::to_string(i);
				auto d = *digest_buffer(HashAlgo::sha256, as_bytes(s));
				auto v = sign_digest(t % 2 ? key : ec_key, HashAlgo::sha256, d);
				if (v && verify_digest(*v, d, ring))
					ok++;
			}
		});
	for (auto &th : threads)
		th.join();
	CHECK(ok == 100);
}

TEST_CASE("interop with evmctl ima_sign / ima_verify --sigfile")
{
	std::string ver;
	REQUIRE_MESSAGE(run("evmctl --version", &ver) == 0, "evmctl (ima-evm-utils) is needed");
	TempDir tmp;
	struct Case {
		std::string key, cert, algo;
		HashAlgo a;
	} cases[] = {
		{ "privkey_ima.pem", "x509_ima.der", "sha256", HashAlgo::sha256 },
		{ "privkey_ima.pem", "x509_ima.der", "sha512", HashAlgo::sha512 },
		{ "rsa/privkey_ima.pem", "rsa/x509_ima.der", "sha256", HashAlgo::sha256 },
		{ "rsa/privkey_ima.pem", "rsa/x509_ima.der", "sha512", HashAlgo::sha512 },
	};
	int n = 0;
	for (auto &c : cases) {
		CAPTURE(c.key);
		CAPTURE(c.algo);
		auto key = load_key(c.key);
		auto cert = load_cert(c.cert);
		const PublicKey *ring[] = { &cert };
		std::string f = tmp / ("f" + std::to_string(n++));
		std::string content(1000 + n * 4097, static_cast<char>('a' + n));
		REQUIRE(write_file_atomic(f, as_bytes(content)));

		// evmctl signs, we verify.
		std::string out;
		REQUIRE_MESSAGE(run("evmctl ima_sign --sigfile -a " + c.algo + " --key " +
					debug_dir + "/" + c.key + " " + f,
				    &out) == 0,
				out);
		auto theirs = read_file(f + ".sig");
		REQUIRE(theirs);
		auto tp = parse_signature_v2(*theirs);
		REQUIRE_MESSAGE(tp, why(tp));
		CHECK(tp->type == SigType::ima_digsig);
		CHECK(tp->algo == c.a);
		CHECK(tp->keyid == key.keyid());
		CHECK_MESSAGE(ima_verify_file(*theirs, f, ring),
			      err_of(ima_verify_file(*theirs, f, ring)));

		// We sign, evmctl verifies.
		auto ours = ima_sign_file(key, c.a, f);
		REQUIRE(ours);
		if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA)
			CHECK(*ours == *theirs); // PKCS#1 v1.5 is deterministic
		REQUIRE(write_file_atomic(f + ".sig", *ours));
		CHECK_MESSAGE(
		    run("evmctl ima_verify --sigfile --key " + debug_dir + "/" + c.cert + " " + f,
			&out) == 0,
		    out);

		// And evmctl notices a broken one: its success above means something.
		Bytes broken = *ours;
		broken.back() ^= 1;
		REQUIRE(write_file_atomic(f + ".sig", broken));
		CHECK(run("evmctl ima_verify --sigfile --key " + debug_dir + "/" + c.cert + " " + f,
			  &out) != 0);
	}
}
