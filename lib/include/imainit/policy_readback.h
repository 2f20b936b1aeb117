// Reading back the IMA policy the kernel loaded (CONFIG_IMA_READ_POLICY)
// and comparing it with the file. The kernel re-prints every rule in its own
// form (ima_policy_show() in security/integrity/ima/ima_policy.c): options in
// a fixed order, fsmagic in hex, PATH_CHECK as FILE_CHECK, a trailing space.
// Both sides are normalised before they are compared.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imainit
{

// The rules of a policy text as ima_parse_add_rule() sees them: one per
// line, leading blanks dropped, '#' comments and empty lines skipped.
std::vector<std::string> policy_rule_lines(std::string_view text);

// Action first, then the options sorted, values in the kernel's spelling.
std::string normalise_policy_rule(std::string_view rule);

struct PolicyReadback {
	size_t file_rules = 0;
	size_t kernel_rules = 0;
	// The file's rules appear in the kernel's policy in order, as one run
	// (the kernel may hold more: architecture rules, or an earlier load
	// with CONFIG_IMA_WRITE_POLICY).
	bool match = false;
	std::string detail; // the first difference, or where the run starts
};

PolicyReadback compare_policy_readback(std::string_view file, std::string_view kernel);

} // namespace imainit
