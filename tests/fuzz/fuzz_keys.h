// The debug verification keys (keys/debug), compiled into the fuzz
// targets so that a target runs the same from any directory.
#pragma once

#include "imainit/keys.h"

#include <span>
#include <string_view>

namespace imainit::fuzz
{

// Parsed once, on first use. A key that does not parse is a broken build,
// not an input: it aborts.
const PublicKey &key(std::string_view name); // "x509_payload.der", "rsa/x509_ima.der"

// Every embedded key: the trusted set a signature is checked against.
std::span<const PublicKey *const> all_keys();

} // namespace imainit::fuzz
