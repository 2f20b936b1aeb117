// A trimmed OpenSSL "default" provider for the static /init.
//
// OpenSSL 3 loads its default provider through the table
// ossl_predefined_providers (crypto/provider_predefined.c), and that
// provider's algorithm tables reference every cipher, MAC, KDF, key
// exchange, encoder and store it implements: statically linked, about
// 540 KB that /init never runs, and the difference between fitting the
// size budget and not. Defining ossl_predefined_providers here keeps the
// linker from pulling provider_predefined.o (an archive member is only
// linked for a symbol still undefined), and with it the full default
// provider; this one offers what verifying signatures needs: SHA-1/2
// digests, EC and RSA keys, ECDSA and RSA signatures, and the DER
// SubjectPublicKeyInfo decoders and encoders (i2d_PUBKEY() of a key, for
// key ids and the debug-key check). No RAND: /init never signs.
//
// This leans on OpenSSL 3.0 internals (the OSSL_PROVIDER_INFO layout of
// crypto/provider_local.h, the ossl_prov_* helpers, the dispatch tables'
// names) as found in the static libcrypto.a. A change there fails the link
// (a symbol gone) or the crypto self-test (tests/host/test-init-selftest.sh);
// IMAINIT_MINIMAL_OPENSSL_PROVIDER=OFF drops this file and links the full
// default provider instead.
#include <openssl/bio.h>
#include <openssl/core.h>
#include <openssl/core_dispatch.h>

extern "C" {

// crypto/provider_local.h
struct ProviderInfo {
	char *name;
	char *path;
	OSSL_provider_init_fn *init;
	void *parameters; // STACK_OF(INFOPAIR) *
	unsigned int is_fallback : 1;
};

// providers/common/include/prov/{bio,seeding,provider_ctx}.h
int ossl_prov_bio_from_dispatch(const OSSL_DISPATCH *fns);
int ossl_prov_seeding_from_dispatch(const OSSL_DISPATCH *fns);
BIO_METHOD *ossl_bio_prov_init_bio_method(void);
void *ossl_prov_ctx_new(void);
void ossl_prov_ctx_free(void *ctx);
void ossl_prov_ctx_set0_libctx(void *ctx, OSSL_LIB_CTX *libctx);
void ossl_prov_ctx_set0_handle(void *ctx, const OSSL_CORE_HANDLE *handle);
void ossl_prov_ctx_set0_core_bio_method(void *ctx, BIO_METHOD *corebiometh);
BIO_METHOD *ossl_prov_ctx_get0_core_bio_method(void *ctx);

// providers/implementations/include/prov/implementations.h
extern const OSSL_DISPATCH ossl_sha1_functions[], ossl_sha224_functions[], ossl_sha256_functions[],
    ossl_sha384_functions[], ossl_sha512_functions[];
extern const OSSL_DISPATCH ossl_ec_keymgmt_functions[], ossl_rsa_keymgmt_functions[];
extern const OSSL_DISPATCH ossl_ecdsa_signature_functions[], ossl_rsa_signature_functions[];
extern const OSSL_DISPATCH ossl_SubjectPublicKeyInfo_der_to_ec_decoder_functions[],
    ossl_SubjectPublicKeyInfo_der_to_rsa_decoder_functions[];
extern const OSSL_DISPATCH ossl_ec_to_SubjectPublicKeyInfo_der_encoder_functions[],
    ossl_rsa_to_SubjectPublicKeyInfo_der_encoder_functions[];

} // extern "C"

namespace
{

// Names and properties exactly as the default provider registers them
// (providers/implementations/include/prov/names.h, decoders.inc): the
// library looks algorithms up by these names and OIDs.
constexpr const char *props = "provider=default";
constexpr const char *spki_from_der =
    "provider=default,fips=yes,input=der,structure=SubjectPublicKeyInfo";
constexpr const char *spki_to_der =
    "provider=default,fips=yes,output=der,structure=SubjectPublicKeyInfo";
constexpr const char *names_ec = "EC:id-ecPublicKey:1.2.840.10045.2.1";
constexpr const char *names_rsa = "RSA:rsaEncryption:1.2.840.113549.1.1.1";

const OSSL_ALGORITHM digests[] = {
	{ "SHA1:SHA-1:SSL3-SHA1:1.3.14.3.2.26", props, ossl_sha1_functions, nullptr },
	{ "SHA2-224:SHA-224:SHA224:2.16.840.1.101.3.4.2.4", props, ossl_sha224_functions, nullptr },
	{ "SHA2-256:SHA-256:SHA256:2.16.840.1.101.3.4.2.1", props, ossl_sha256_functions, nullptr },
	{ "SHA2-384:SHA-384:SHA384:2.16.840.1.101.3.4.2.2", props, ossl_sha384_functions, nullptr },
	{ "SHA2-512:SHA-512:SHA512:2.16.840.1.101.3.4.2.3", props, ossl_sha512_functions, nullptr },
	{ nullptr, nullptr, nullptr, nullptr },
};

const OSSL_ALGORITHM keymgmt[] = {
	{ names_ec, props, ossl_ec_keymgmt_functions, nullptr },
	{ names_rsa, props, ossl_rsa_keymgmt_functions, nullptr },
	{ nullptr, nullptr, nullptr, nullptr },
};

const OSSL_ALGORITHM signatures[] = {
	{ "ECDSA", props, ossl_ecdsa_signature_functions, nullptr },
	{ names_rsa, props, ossl_rsa_signature_functions, nullptr },
	{ nullptr, nullptr, nullptr, nullptr },
};

const OSSL_ALGORITHM decoders[] = {
	{ names_ec, spki_from_der, ossl_SubjectPublicKeyInfo_der_to_ec_decoder_functions, nullptr },
	{ names_rsa, spki_from_der, ossl_SubjectPublicKeyInfo_der_to_rsa_decoder_functions,
	  nullptr },
	{ nullptr, nullptr, nullptr, nullptr },
};

const OSSL_ALGORITHM encoders[] = {
	{ names_ec, spki_to_der, ossl_ec_to_SubjectPublicKeyInfo_der_encoder_functions, nullptr },
	{ names_rsa, spki_to_der, ossl_rsa_to_SubjectPublicKeyInfo_der_encoder_functions, nullptr },
	{ nullptr, nullptr, nullptr, nullptr },
};

const OSSL_ALGORITHM *query(void *, int operation, int *no_cache)
{
	*no_cache = 0;
	switch (operation) {
	case OSSL_OP_DIGEST:
		return digests;
	case OSSL_OP_KEYMGMT:
		return keymgmt;
	case OSSL_OP_SIGNATURE:
		return signatures;
	case OSSL_OP_DECODER:
		return decoders;
	case OSSL_OP_ENCODER:
		return encoders;
	}
	return nullptr;
}

void teardown(void *provctx)
{
	BIO_meth_free(ossl_prov_ctx_get0_core_bio_method(provctx));
	ossl_prov_ctx_free(provctx);
}

template <class F> void (*fn(F *f))(void)
{
	return reinterpret_cast<void (*)(void)>(f);
}

const OSSL_DISPATCH dispatch[] = {
	{ OSSL_FUNC_PROVIDER_TEARDOWN, fn(teardown) },
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, fn(query) },
	{ 0, nullptr },
};

// As ossl_default_provider_init() in providers/defltprov.c.
int provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		  const OSSL_DISPATCH **out, void **provctx)
{
	if (!ossl_prov_bio_from_dispatch(in) || !ossl_prov_seeding_from_dispatch(in))
		return 0;
	OSSL_FUNC_core_get_libctx_fn *get_libctx = nullptr;
	for (; in->function_id != 0; in++)
		if (in->function_id == OSSL_FUNC_CORE_GET_LIBCTX)
			get_libctx = OSSL_FUNC_core_get_libctx(in);
	if (!get_libctx)
		return 0;
	BIO_METHOD *corebio = nullptr;
	if ((*provctx = ossl_prov_ctx_new()) == nullptr ||
	    (corebio = ossl_bio_prov_init_bio_method()) == nullptr) {
		ossl_prov_ctx_free(*provctx);
		*provctx = nullptr;
		return 0;
	}
	ossl_prov_ctx_set0_libctx(*provctx, reinterpret_cast<OSSL_LIB_CTX *>(get_libctx(handle)));
	ossl_prov_ctx_set0_handle(*provctx, handle);
	ossl_prov_ctx_set0_core_bio_method(*provctx, corebio);
	*out = dispatch;
	return 1;
}

} // namespace

// The one provider OpenSSL loads by itself (is_fallback).
extern "C" const ProviderInfo ossl_predefined_providers[] = {
	{ const_cast<char *>("default"), nullptr, provider_init, nullptr, 1 },
	{ nullptr, nullptr, nullptr, nullptr, 0 },
};
