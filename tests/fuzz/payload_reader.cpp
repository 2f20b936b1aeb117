#include "payload_reader.h"

#include "fuzz_check.h"
#include "imainit/config.h"
#include "imainit/layout.h"
#include "imainit/payload.h"

#include <algorithm>

namespace imainit::fuzz
{

namespace
{

bool same_entries(const std::vector<PayloadEntry> &a, const std::vector<PayloadEntry> &b)
{
	if (a.size() != b.size())
		return false;
	for (size_t i = 0; i < a.size(); i++) {
		auto &x = a[i], &y = b[i];
		auto xs = x.xattrs, ys = y.xattrs;
		std::sort(xs.begin(), xs.end());
		std::sort(ys.begin(), ys.end());
		if (x.path != y.path || x.kind != y.kind || x.perm != y.perm || x.uid != y.uid ||
		    x.gid != y.gid || x.data != y.data || x.target != y.target || xs != ys)
			return false;
	}
	return true;
}

// The packer rewrites payloads it has read (unpack, verify): what the
// writer writes must read back unchanged. It may refuse what it cannot
// carry (the reader accepts GNU tar's raw xattr names, for one), but it
// must never change an entry silently.
void check_round_trip(const std::vector<PayloadEntry> &entries, const ExtractLimits &limits)
{
	auto tar = write_payload_tar(entries, 0);
	if (!tar)
		return;
	auto again = read_payload_tar(*tar, limits);
	if (!again)
		std::fprintf(stderr, "read_payload_tar: %s\n", again.error().what().c_str());
	FUZZ_CHECK(again);
	auto sorted = entries;
	std::sort(sorted.begin(), sorted.end(),
		  [](const PayloadEntry &a, const PayloadEntry &b) { return a.path < b.path; });
	FUZZ_CHECK(same_entries(sorted, *again));
}

} // namespace

void read_payload_as_init(std::span<const uint8_t> tar)
{
	ExtractLimits any;
	any.xattr_allow = { "*" };
	auto entries = read_payload_tar(tar, any);

	ExtractLimits limits;
	if (entries) {
		check_round_trip(*entries, any);
		for (auto &e : *entries) {
			if (e.path != layout::config || e.kind != PayloadEntry::Kind::file)
				continue;
			auto config = parse_config(std::string(e.data.begin(), e.data.end()));
			if (config)
				for (auto &x : config->xattr_allow)
					limits.xattr_allow.push_back(x);
		}
	}
	// The allow list only narrows what the first read took.
	auto strict = read_payload_tar(tar, limits);
	FUZZ_CHECK(!strict || entries);
	if (strict)
		FUZZ_CHECK(same_entries(*strict, *entries));
}

} // namespace imainit::fuzz
