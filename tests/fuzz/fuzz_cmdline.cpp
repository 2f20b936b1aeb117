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
	// A lone '"' makes an empty word, as the kernel's next_arg() does: no
	// property to check on the words themselves.
	(void)split_cmdline(text);

	if (auto c = parse_cmdline(text)) {
		(void)c->mount_read_only();
		if (c->root) {
			// A spec is shown in a form that names the same device
			// (a device number keeps its original spelling as value).
			auto &r = *c->root;
			auto shown = describe_root_spec(r);
			auto again = parse_root_spec(shown);
			if (!again)
				std::fprintf(stderr, "'%s': %s\n", shown.c_str(),
					     again.error().what().c_str());
			FUZZ_CHECK(again);
			FUZZ_CHECK(again->kind == r.kind && again->major == r.major &&
				   again->minor == r.minor);
			FUZZ_CHECK(r.kind == RootSpec::Kind::devnum || again->value == r.value);
		}
	}
	// The pieces on their own, as the root= and rootflags= values.
	if (auto r = parse_root_spec(text))
		(void)describe_root_spec(*r);
	(void)parse_mount_options(text);
	return 0;
}
