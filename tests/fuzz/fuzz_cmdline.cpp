// The kernel command line (/proc/cmdline): the one input of /init that is
// not covered by a signature.
#include "fuzz_check.h"
#include "imainit/cmdline.h"

#include <cstddef>
#include <cstdint>

using namespace imainit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	auto split = split_cmdline(text);
	for (auto &a : split.args)
		FUZZ_CHECK(!a.name.empty() || a.value);

	if (auto c = parse_cmdline(text)) {
		(void)c->mount_read_only();
		if (c->root) {
			// A spec is shown the way it can be written back.
			auto shown = describe_root_spec(*c->root);
			auto again = parse_root_spec(shown);
			if (!again)
				std::fprintf(stderr, "'%s': %s\n", shown.c_str(),
					     again.error().what().c_str());
			FUZZ_CHECK(again && *again == *c->root);
		}
	}
	// The pieces on their own, as the root= and rootflags= values.
	if (auto r = parse_root_spec(text))
		(void)describe_root_spec(*r);
	(void)parse_mount_options(text);
	return 0;
}
