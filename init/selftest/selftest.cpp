// ima-init-selftest: the crypto /init relies on, run from a binary linked
// exactly like /init (static, trimmed OpenSSL provider), on the host. The
// unit tests link the shared libcrypto with its full default provider and
// cannot notice an algorithm missing from /init's.
//
// Usage: ima-init-selftest KEYDIR WORKDIR
//   KEYDIR   keys/debug of the source tree
//   WORKDIR  data, data.sig (evmctl ima_sign --sigfile, EC key),
//            data.rsa, data.rsa.sig (RSA key), pub.pem (the public key of
//            x509_ima.der); optionally evmfile carrying
//            security.ima and a portable security.evm.
#include "crypto_setup.h"
#include "file_signatures.h"
#include "log.h"
#include "trust_anchor.h"

#include "imainit/digsig.h"
#include "imainit/fd.h"
#include "imainit/hash.h"
#include "imainit/io.h"
#include "imainit/keys.h"
#include "imainit/payload.h"

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>

using namespace imainit;

namespace
{

int failures = 0;

void check(bool ok, const std::string &what, const std::string &detail = {})
{
	std::printf("%s: %s%s%s\n", ok ? "ok" : "FAIL", what.c_str(), detail.empty() ? "" : ": ",
		    detail.c_str());
	if (!ok)
		failures++;
}

template <class T> std::string err(const T &r)
{
	return r ? std::string() : r.error().what();
}

std::optional<PublicKey> load(const std::string &path)
{
	auto k = load_public_key(path);
	check(k.has_value(), "load " + path, err(k));
	if (!k)
		return std::nullopt;
	return std::move(*k);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: %s KEYDIR WORKDIR\n", argv[0]);
		return 2;
	}
	std::string keys = argv[1], work = argv[2];
	// OpenSSL set up as /init sets it up.
	if (auto r = imainit::boot::setup_crypto(); !r) {
		std::fprintf(stderr, "selftest: %s\n", r.error().what().c_str());
		return 1;
	}

	static constexpr struct {
		HashAlgo algo;
		const char *abc;
	} vectors[] = {
		{ HashAlgo::sha1, "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ HashAlgo::sha256,
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ HashAlgo::sha384,
		  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		  "8086072ba1e7cc2358baeca134c825a7" },
		{ HashAlgo::sha512,
		  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
	};
	for (auto &v : vectors) {
		auto d = digest_buffer(v.algo, as_bytes("abc"));
		check(d && to_hex(*d) == v.abc,
		      std::string("digest ") + std::string(hash_algo_name(v.algo)), err(d));
	}

	auto ca = load(keys + "/ima-local-ca.pem");
	auto ima = load(keys + "/x509_ima.der");
	auto evm = load(keys + "/x509_evm.der");
	auto rsa = load(keys + "/rsa/x509_ima.der");
	auto other = load(keys + "/untrusted/x509_ima.der");
	auto payload = load(keys + "/x509_payload.der");
	if (!ca || !ima || !evm || !rsa || !other || !payload)
		return 1;

	check(boot::key_algorithm(ima->get()) == "ECDSA P-256", "EC key described",
	      boot::key_algorithm(ima->get()));
	check(boot::key_algorithm(rsa->get()) == "RSA-2048", "RSA key described",
	      boot::key_algorithm(rsa->get()));
	check(!ima->subject().empty(), "certificate subject", ima->subject());
	check(is_debug_key(payload->get()), "debug payload key recognised");

	auto r = cert_signed_by(*ima, *ca);
	check(r.has_value(), "x509_ima.der is signed by the CA", err(r));
	r = cert_signed_by(*evm, *ca);
	check(r.has_value(), "x509_evm.der is signed by the CA", err(r));
	r = cert_signed_by(*other, *ca);
	check(!r.has_value(), "a certificate of another CA is refused", err(r));

	auto data = read_file(work + "/data");
	auto sig = read_file(work + "/data.sig");
	auto rdata = read_file(work + "/data.rsa");
	auto rsig = read_file(work + "/data.rsa.sig");
	check(data && sig && rdata && rsig, "fixtures read");
	if (!data || !sig || !rdata || !rsig)
		return 1;

	auto hdr = parse_signature_v2(*sig);
	check(hdr && hdr->keyid == ima->keyid(), "evmctl keyid matches the certificate's");
	r = verify_payload(*data, *sig, *ima);
	check(r.has_value(), "ECDSA signature verifies", err(r));
	r = verify_payload(*rdata, *rsig, *rsa);
	check(r.has_value(), "RSA signature verifies", err(r));
	Bytes tampered = *data;
	tampered[tampered.size() / 2] ^= 1;
	r = verify_payload(tampered, *sig, *ima);
	check(!r.has_value(), "a changed payload is refused", err(r));
	r = verify_payload(*data, *sig, *other);
	check(!r.has_value(), "a signature by another key is refused", err(r));

	// A bare public key has no subjectKeyIdentifier: its key id is
	// computed from the key, through the DER encoder.
	if (auto bare = load_public_key(work + "/pub.pem"))
		check(bare->keyid() == ima->keyid(), "key id of a bare public key",
		      boot::hex32(bare->keyid()) + " vs " + boot::hex32(ima->keyid()));
	else
		check(false, "load pub.pem", bare.error().what());

	std::string evmfile = work + "/evmfile";
	if (::access(evmfile.c_str(), F_OK) == 0) {
		UniqueFd fd(::open(evmfile.c_str(), O_RDONLY | O_CLOEXEC));
		check(bool(fd), "open evmfile");
		if (fd) {
			auto s = boot::check_ima_signature(fd.get(), "evmfile", *ima);
			check(s.has_value(), "security.ima of evmfile verifies", err(s));
			std::string note;
			s = boot::check_evm_signature(fd.get(), "evmfile", *evm, &note);
			check(s.has_value() && note.empty(), "portable security.evm verifies",
			      err(s) + note);
			s = boot::check_evm_signature(fd.get(), "evmfile", *ima, &note);
			check(!s.has_value(), "security.evm refused with the wrong key", err(s));
		}
	} else {
		std::printf("skip: no evmfile (xattrs need a private tmpfs)\n");
	}

	std::printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
