// The payload as /init reads it once the signature has passed: every entry
// with any xattr name (to find the configuration), the configuration, then
// every entry again with the xattr names the configuration allows. Shared
// by the plain and the signed payload targets.
#pragma once

#include <cstdint>
#include <span>

namespace imainit::fuzz
{

void read_payload_as_init(std::span<const uint8_t> tar);

} // namespace imainit::fuzz
