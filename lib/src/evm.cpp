#include "imainit/evm.h"

#include <openssl/evp.h>

namespace imainit
{

namespace
{

const Bytes *find_xattr(const Xattrs &xattrs, std::string_view name)
{
	const Bytes *found = nullptr;
	for (auto &[n, v] : xattrs)
		if (n == name) {
			found = &v;
			break;
		}
	return found;
}

// struct h_misc of evm_crypto.c as a 64-bit kernel lays it out:
//   unsigned long ino; u32 generation; uid_t uid; gid_t gid; umode_t mode;
// 8 + 4 + 4 + 4 + 2 = 22 bytes, padded to 24 by the struct's 8-byte
// alignment. hmac_add_misc() memsets it first, so the padding is zero, and
// leaves ino and generation zero for portable signatures.
std::array<uint8_t, 24> h_misc(const FileMeta &meta)
{
	std::array<uint8_t, 24> m{};
	auto put32 = [&](size_t off, uint32_t v) {
		for (int i = 0; i < 4; i++)
			m[off + i] = static_cast<uint8_t>(v >> (8 * i));
	};
	put32(12, meta.uid);
	put32(16, meta.gid);
	// umode_t is 16 bits: the whole st_mode, file type included.
	m[20] = static_cast<uint8_t>(meta.mode);
	m[21] = static_cast<uint8_t>(meta.mode >> 8);
	return m;
}

} // namespace

Result<Digest> evm_portable_digest(HashAlgo algo, const Xattrs &xattrs, const FileMeta &meta)
{
	for (size_t i = 0; i < xattrs.size(); i++)
		for (size_t j = i + 1; j < xattrs.size(); j++)
			if (xattrs[i].first == xattrs[j].first)
				return fail("xattr " + xattrs[i].first + " given twice");

	const EVP_MD *md = hash_algo_md(algo);
	ossl::MdCtx ctx(EVP_MD_CTX_new());
	if (!md || !ctx || !EVP_DigestInit_ex(ctx.get(), md, nullptr))
		return fail("digest init failed: " + ossl::last_error());

	// evm_calc_hmac_or_hash() skips names of LSMs the kernel lacks
	// ("disabled") only for local HMACs and signatures: a portable
	// signature covers every configured name that is present.
	bool ima_present = false;
	for (std::string_view name : evm_protected_xattrs) {
		const Bytes *v = find_xattr(xattrs, name);
		if (!v)
			continue;
		if (name == "security.ima")
			ima_present = true;
		EVP_DigestUpdate(ctx.get(), v->data(), v->size());
	}
	// The kernel refuses (EPERM) a portable signature without security.ima:
	// such a signature would verify but never let the file be appraised.
	if (!ima_present)
		return fail("portable EVM signature needs security.ima, which the file lacks");

	auto misc = h_misc(meta);
	EVP_DigestUpdate(ctx.get(), misc.data(), misc.size());
	Digest out(hash_algo_size(algo));
	unsigned int len = 0;
	if (!EVP_DigestFinal_ex(ctx.get(), out.data(), &len))
		return fail("digest failed: " + ossl::last_error());
	return out;
}

Result<Bytes> evm_portable_sign(const PrivateKey &key, HashAlgo algo, const Xattrs &xattrs,
				const FileMeta &meta)
{
	auto d = evm_portable_digest(algo, xattrs, meta);
	if (!d)
		return std::unexpected(d.error());
	return sign_digest(key, algo, *d, SigType::evm_portable);
}

Status evm_portable_verify(std::span<const uint8_t> value, const Xattrs &xattrs,
			   const FileMeta &meta, std::span<const PublicKey *const> keys)
{
	// The non-portable kinds are bound to one inode (ino, generation, fs
	// UUID) and cannot survive a copy: name them instead of failing later.
	if (!value.empty() && value[0] == 0x02)
		return fail("security.evm holds an HMAC (type 0x02), not a portable signature");
	if (!value.empty() && value[0] == static_cast<uint8_t>(SigType::ima_digsig))
		return fail(
		    "security.evm holds an inode-bound signature (type 0x03), not a portable "
		    "one (0x05)");
	auto sig = parse_signature_v2(value);
	if (!sig)
		return wrap(sig.error(), "security.evm");
	auto d = evm_portable_digest(sig->algo, xattrs, meta);
	if (!d)
		return std::unexpected(d.error());
	if (auto r = verify_digest(value, *d, keys); !r)
		return wrap(r.error(), "security.evm");
	return {};
}

} // namespace imainit
