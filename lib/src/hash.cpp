#include "imainit/hash.h"

#include "imainit/fd.h"
#include "imainit/ossl.h"

#include <fcntl.h>
#include <unistd.h>

namespace imainit {

namespace {

struct AlgoInfo {
	HashAlgo algo;
	std::string_view name;
};

constexpr AlgoInfo algos[] = {
	{HashAlgo::sha1, "sha1"},
	{HashAlgo::sha256, "sha256"},
	{HashAlgo::sha384, "sha384"},
	{HashAlgo::sha512, "sha512"},
};

} // namespace

Result<HashAlgo> hash_algo_from_name(std::string_view name)
{
	for (auto &a : algos)
		if (a.name == name)
			return a.algo;
	return fail("unsupported hash algorithm '" + std::string(name) +
		    "' (use sha256, sha384 or sha512)");
}

Result<HashAlgo> hash_algo_from_id(uint8_t id)
{
	for (auto &a : algos)
		if (static_cast<uint8_t>(a.algo) == id)
			return a.algo;
	return fail("unknown hash algorithm id " + std::to_string(id));
}

std::string_view hash_algo_name(HashAlgo algo)
{
	for (auto &a : algos)
		if (a.algo == algo)
			return a.name;
	return "unknown";
}

const EVP_MD *hash_algo_md(HashAlgo algo)
{
	switch (algo) {
	case HashAlgo::sha1:
		return EVP_sha1();
	case HashAlgo::sha256:
		return EVP_sha256();
	case HashAlgo::sha384:
		return EVP_sha384();
	case HashAlgo::sha512:
		return EVP_sha512();
	}
	return nullptr;
}

size_t hash_algo_size(HashAlgo algo)
{
	const EVP_MD *md = hash_algo_md(algo);
	return md ? static_cast<size_t>(EVP_MD_get_size(md)) : 0;
}

Result<Digest> digest_buffer(HashAlgo algo, std::span<const uint8_t> data)
{
	Digest out(hash_algo_size(algo));
	unsigned int len = 0;
	if (out.empty() || !EVP_Digest(data.data(), data.size(), out.data(), &len, hash_algo_md(algo), nullptr))
		return fail("digest failed: " + ossl::last_error());
	return out;
}

Result<Digest> digest_fd(HashAlgo algo, int fd)
{
	ossl::MdCtx ctx(EVP_MD_CTX_new());
	if (!ctx || !EVP_DigestInit_ex(ctx.get(), hash_algo_md(algo), nullptr))
		return fail("digest init failed: " + ossl::last_error());
	uint8_t buf[1 << 16];
	for (;;) {
		ssize_t n = ::read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("read");
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(n));
	}
	Digest out(hash_algo_size(algo));
	unsigned int len = 0;
	if (!EVP_DigestFinal_ex(ctx.get(), out.data(), &len))
		return fail("digest failed: " + ossl::last_error());
	return out;
}

Result<Digest> digest_file(HashAlgo algo, const std::string &path)
{
	UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return fail_errno("cannot open " + path);
	auto d = digest_fd(algo, fd.get());
	if (!d)
		return wrap(d.error(), path);
	return d;
}

std::string to_hex(std::span<const uint8_t> data)
{
	static constexpr char hex[] = "0123456789abcdef";
	std::string s;
	s.reserve(data.size() * 2);
	for (uint8_t b : data) {
		s += hex[b >> 4];
		s += hex[b & 15];
	}
	return s;
}

} // namespace imainit
