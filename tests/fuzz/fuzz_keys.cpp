#include "fuzz_keys.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace imainit::fuzz
{

namespace
{

struct EmbeddedKey {
	const char *name;
	std::vector<uint8_t> der;
};

const std::vector<EmbeddedKey> &embedded()
{
	static const std::vector<EmbeddedKey> keys = {
#include "fuzz_keys.inc"
	};
	return keys;
}

struct KeySet {
	std::vector<PublicKey> keys;
	std::vector<const PublicKey *> ptrs;
};

const KeySet &key_set()
{
	static const KeySet set = [] {
		KeySet s;
		for (auto &k : embedded()) {
			auto pk = parse_public_key(k.der, k.name);
			if (!pk) {
				std::fprintf(stderr, "embedded key %s: %s\n", k.name,
					     pk.error().what().c_str());
				std::abort();
			}
			s.keys.push_back(std::move(*pk));
		}
		for (auto &k : s.keys)
			s.ptrs.push_back(&k);
		return s;
	}();
	return set;
}

} // namespace

const PublicKey &key(std::string_view name)
{
	auto &set = key_set();
	for (size_t i = 0; i < embedded().size(); i++)
		if (embedded()[i].name == name)
			return set.keys[i];
	std::fprintf(stderr, "no embedded key %.*s\n", static_cast<int>(name.size()), name.data());
	std::abort();
}

std::span<const PublicKey *const> all_keys()
{
	return key_set().ptrs;
}

} // namespace imainit::fuzz
