// RAII for OpenSSL objects, and the OpenSSL error queue as text.
#pragma once

#include <memory>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string>

namespace imainit::ossl {

template <auto Fn> struct Deleter {
	template <class T> void operator()(T *p) const { Fn(p); }
};

using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PKeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;

// Drains the thread's OpenSSL error queue into one line ("" if empty).
std::string last_error();

} // namespace imainit::ossl
