// The IMA policy grammar of kernel 6.1 (Documentation/ABI/testing/ima_policy,
// security/integrity/ima/ima_policy.c). The kernel rejects a whole policy at
// close() without naming the bad rule; this names it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace imainit {

struct LintIssue {
	enum class Severity { error, warning };
	unsigned line; // 1-based; 0 for whole-policy findings
	Severity severity;
	std::string message;
};

struct LintOptions {
	// The policy is meant to be signed: warn unless it carries
	// "appraise func=POLICY_CHECK appraise_type=imasig".
	bool expect_signed_policy = false;
};

std::vector<LintIssue> lint_policy(std::string_view text, const LintOptions &opts = {});

inline bool has_errors(const std::vector<LintIssue> &issues)
{
	for (auto &i : issues)
		if (i.severity == LintIssue::Severity::error)
			return true;
	return false;
}

} // namespace imainit
