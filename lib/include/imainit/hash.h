// Hash algorithms by their kernel ids (include/uapi/linux/hash_info.h).
#pragma once

#include "imainit/result.h"

#include <cstdint>
#include <openssl/evp.h>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imainit {

enum class HashAlgo : uint8_t {
	sha1 = 2,
	sha256 = 4,
	sha384 = 5,
	sha512 = 6,
};

using Digest = std::vector<uint8_t>;

// "sha256" -> HashAlgo::sha256; unknown or unsupported names fail.
Result<HashAlgo> hash_algo_from_name(std::string_view name);
// Kernel id (hash_info.h) -> HashAlgo; ids we do not sign with fail.
Result<HashAlgo> hash_algo_from_id(uint8_t id);
std::string_view hash_algo_name(HashAlgo algo);
const EVP_MD *hash_algo_md(HashAlgo algo);
size_t hash_algo_size(HashAlgo algo);

Result<Digest> digest_buffer(HashAlgo algo, std::span<const uint8_t> data);
// Hashes from the current offset to EOF.
Result<Digest> digest_fd(HashAlgo algo, int fd);
Result<Digest> digest_file(HashAlgo algo, const std::string &path);

std::string to_hex(std::span<const uint8_t> data);

} // namespace imainit
