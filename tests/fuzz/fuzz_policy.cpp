// The IMA policy linter: the packer runs it on user files and /init on the
// payload's policy before writing its path to securityfs.
#include "fuzz_check.h"
#include "imainit/policy.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

using namespace imainit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	size_t lines = std::count(text.begin(), text.end(), '\n');
	if (!text.empty() && text.back() != '\n')
		lines++;
	for (bool signed_policy : { false, true }) {
		LintOptions opts;
		opts.expect_signed_policy = signed_policy;
		for (auto &issue : lint_policy(text, opts)) {
			// Every finding names a line of this text (0: the whole
			// policy) and says something.
			FUZZ_CHECK(issue.line <= lines);
			FUZZ_CHECK(!issue.message.empty());
		}
	}
	return 0;
}
