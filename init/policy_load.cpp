#include "policy_load.h"

#include "log.h"

#include "imainit/fd.h"
#include "imainit/io.h"
#include "imainit/kernel_errors.h"
#include "imainit/policy.h"
#include "imainit/policy_readback.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace imainit::boot
{

namespace
{

constexpr size_t max_policy_size = 1u << 20;
constexpr const char *ima_dir = "/sys/kernel/security/ima";

Status lint(const std::string &rel, const std::string &text)
{
	LintOptions opts;
	opts.expect_signed_policy = true;
	auto issues = lint_policy(text, opts);
	const LintIssue *first_error = nullptr;
	for (auto &i : issues) {
		std::string where = rel + (i.line ? ":" + std::to_string(i.line) : "");
		if (i.severity == LintIssue::Severity::error) {
			log_err("policy " + where + ": " + i.message);
			if (!first_error)
				first_error = &i;
		} else {
			log_warn("policy " + where + ": " + i.message);
		}
	}
	if (first_error)
		return fail("policy " + rel +
			    (first_error->line ? ":" + std::to_string(first_error->line) : "") +
			    ": " + first_error->message);
	return {};
}

void read_back(const std::string &text)
{
	// Readable only with CONFIG_IMA_READ_POLICY; the file is gone when
	// the kernel has neither READ nor WRITE_POLICY.
	UniqueFd fd(::open(ima_policy_file, O_RDONLY | O_CLOEXEC));
	if (!fd) {
		if (errno == EACCES || errno == ENOENT)
			log_info("the kernel does not show the loaded policy (no "
				 "CONFIG_IMA_READ_POLICY): trusting the load status");
		else
			log_warn(std::string("cannot read back the policy: ") +
				 std::strerror(errno));
		return;
	}
	auto loaded = read_fd(fd.get(), 4u << 20);
	if (!loaded) {
		log_warn("cannot read back the policy: " + loaded.error().what());
		return;
	}
	auto cmp = compare_policy_readback(text, std::string(loaded->begin(), loaded->end()));
	if (cmp.match)
		log_info("policy read back: " + cmp.detail);
	else
		log_warn("policy read back differs from the file (" +
			 std::to_string(cmp.file_rules) + " rules in the file, " +
			 std::to_string(cmp.kernel_rules) + " in the kernel): " + cmp.detail);
}

} // namespace

Status load_policy(BootContext &ctx)
{
	const std::string &rel = ctx.config.policy;
	if (rel.empty()) {
		log_info("no IMA policy configured: the kernel's policy stays in force");
		return {};
	}
	std::string path = ctx.payload_path(rel);
	auto data = read_file(path, max_policy_size);
	if (!data)
		return std::unexpected(data.error());
	std::string text(data->begin(), data->end());
	if (auto r = lint(rel, text); !r)
		return r;

	UniqueFd fd(::open(ima_policy_file, O_WRONLY | O_CLOEXEC));
	if (!fd) {
		int e = errno;
		// Without CONFIG_IMA_WRITE_POLICY and CONFIG_IMA_READ_POLICY the
		// kernel removes the policy file after the first load
		// (ima_release_policy()); its directory stays. So the directory
		// tells "IMA is off" from "someone loaded a policy before us".
		if (e == ENOENT && ::access(ima_dir, F_OK) == 0)
			return fail(
			    std::string(ima_policy_file) +
				" is gone: a policy was loaded before ima-init ran, and this "
				"kernel takes only one (no CONFIG_IMA_WRITE_POLICY)",
			    e);
		return fail(std::string(ima_policy_file) + ": " + explain_policy_open_error(e), e);
	}
	// One write holding the absolute path: ima_write_policy() then reads
	// the file through kernel_read_file(), which appraises it. It takes
	// one write only (a second one at a non-zero offset is EINVAL).
	std::string request = path + "\n";
	ssize_t n = ::write(fd.get(), request.data(), request.size());
	if (n < 0) {
		int e = errno;
		return fail("loading policy " + path + ": " + explain_policy_write_error(e), e);
	}
	if (static_cast<size_t>(n) != request.size())
		return fail("loading policy " + path + ": the kernel took " + std::to_string(n) +
			    " of " + std::to_string(request.size()) + " bytes of the path");
	// ima_release_policy() makes the rules active; it reports nothing
	// (always 0), but a failing close would mean the load did not finish.
	if (::close(fd.release()) != 0) {
		int e = errno;
		return fail("loading policy " + path + ": closing the policy file", e);
	}
	log_info("IMA policy " + rel + " loaded (" +
		 std::to_string(policy_rule_lines(text).size()) + " rules)");
	read_back(text);
	return {};
}

} // namespace imainit::boot
