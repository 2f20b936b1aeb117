// The input layout of the digsig target, shared with the seed writer.
//
// byte 0 selects what is fuzzed (modulo 3):
//   0: parse_signature_v2(rest)
//   1: verify_digest(rest, digest of signed_message, keys)
//   2: evm_portable_verify; rest is
//        be16 len, security.evm value,
//        be32 uid, be32 gid, be32 st_mode,
//        then xattrs, each: u8 name length, name, be16 value length, value
#pragma once

#include "imainit/evm.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace imainit::fuzz
{

enum class DigsigMode : uint8_t { parse = 0, verify = 1, evm = 2 };

// What mode 1 signatures are made over (hashed with the header's algorithm).
inline constexpr std::string_view signed_message = "ima-initramfs fuzz: signed message\n";

struct EvmInput {
	std::span<const uint8_t> value;
	FileMeta meta;
	Xattrs xattrs;
};

// nullopt when the bytes do not follow the layout (not an error: the input
// is just skipped).
std::optional<EvmInput> decode_evm_input(std::span<const uint8_t> in);
Bytes encode_evm_input(std::span<const uint8_t> value, const FileMeta &meta, const Xattrs &xattrs);

} // namespace imainit::fuzz
