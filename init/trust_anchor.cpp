#include "trust_anchor.h"

#include "log.h"

#include "imainit/layout.h"

#include <cerrno>
#include <openssl/evp.h>
#include <unistd.h>

#ifdef IMAINIT_HAVE_TRUST_ANCHOR
#include "trust_anchor_data.h"
#endif

namespace imainit::boot
{

namespace
{

// A certificate is a few hundred bytes; anything large is not one.
constexpr size_t max_anchor_size = 64 * 1024;

} // namespace

std::string key_algorithm(EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		return "RSA-" + std::to_string(EVP_PKEY_get_bits(key));
	case EVP_PKEY_EC: {
		char group[64] = "";
		size_t len = 0;
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1)
			return "ECDSA";
		std::string_view g = group;
		if (g == "prime256v1")
			return "ECDSA P-256";
		if (g == "secp384r1")
			return "ECDSA P-384";
		return "ECDSA " + std::string(g);
	}
	}
	const char *n = EVP_PKEY_get0_type_name(key);
	return n ? n : "unknown key type";
}

namespace
{

Result<PublicKey> find_trust_anchor()
{
	std::string cpio_anchor = std::string("/") + layout::trust_der;
#ifdef IMAINIT_HAVE_TRUST_ANCHOR
	// parse_public_key() names the source in its errors.
	auto key = parse_public_key(trust_anchor_data, "built-in trust anchor");
	if (!key)
		return std::unexpected(key.error());
	if (::access(cpio_anchor.c_str(), F_OK) == 0)
		log_notice("ignoring " + cpio_anchor + ": a trust anchor is built into /init");
	log_info("trust anchor: built in (" + std::string(trust_anchor_source) + ")");
	return key;
#else
	auto data = read_file(cpio_anchor, max_anchor_size);
	if (!data) {
		if (data.error().err == ENOENT)
			return fail("no payload trust anchor: none is built into /init "
				    "(IMAINIT_TRUST_ANCHOR) and the initramfs has no " +
				    cpio_anchor);
		return std::unexpected(data.error());
	}
	// An empty file is what a failed copy or a truncated image leaves:
	// say so rather than that it is not a certificate.
	if (data->empty())
		return fail(cpio_anchor + " is empty (0 bytes): it holds no trust anchor");
	auto key = parse_public_key(*data, cpio_anchor);
	if (!key)
		return std::unexpected(key.error());
	log_info("trust anchor: " + cpio_anchor);
	return key;
#endif
}

} // namespace

Result<PublicKey> load_trust_anchor()
{
	auto key = find_trust_anchor();
	if (key && is_debug_key(*key))
		log_warn("WARNING: the payload trust anchor is a published debug key: anyone can "
			 "sign a payload this system accepts");
	return key;
}

} // namespace imainit::boot
