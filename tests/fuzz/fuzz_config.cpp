// etc/ima-init.conf: signed, but written by people, and parsed by both
// programs; format_config must write what parse_config reads back.
#include "fuzz_check.h"
#include "imainit/config.h"

#include <cstddef>
#include <cstdint>

using namespace imainit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	(void)failure_action_from_name(text);
	auto c = parse_config(text);
	if (!c)
		return 0;
	auto written = format_config(*c);
	auto again = parse_config(written);
	if (!again)
		std::fprintf(stderr, "format_config wrote what parse_config refuses: %s\n%s",
			     again.error().what().c_str(), written.c_str());
	FUZZ_CHECK(again);
	FUZZ_CHECK(format_config(*again) == written);
	return 0;
}
