// ima-mkinitramfs lint-policy: check IMA policy files against the kernel 6.1
// grammar before they reach a kernel, which would reject the whole policy at
// close() without naming the bad rule.
#include "commands.h"
#include "options.h"

#include "imainit/io.h"
#include "imainit/policy.h"

#include <cstdio>
#include <getopt.h>
#include <string>
#include <unistd.h>

using namespace imainit;
using mkinitramfs::report_failure;
using mkinitramfs::report_usage_error;

namespace
{

constexpr const char *prog = "ima-mkinitramfs lint-policy";

// The kernel would read a policy of up to INT_MAX bytes; no real policy
// comes near this, and it keeps a mistaken argument (a disk image, a
// device) from being read whole.
constexpr size_t max_policy_size = 16 << 20;

void usage(FILE *out)
{
	std::fprintf(
	    out, "usage: ima-mkinitramfs lint-policy [OPTIONS] FILE...\n"
		 "\n"
		 "Checks each IMA policy FILE ('-' for standard input) against the kernel 6.1\n"
		 "policy grammar, as ima_parse_rule() and ima_validate_rule() would, and warns\n"
		 "about rules that are valid but break the boot or leave a gap. Prints\n"
		 "FILE:LINE: error: REASON (or warning:) on standard error.\n"
		 "Exits 0 when no file has errors, 1 when one has (or is unreadable), 2 on a\n"
		 "usage error.\n"
		 "\n"
		 "options:\n"
		 "  -s, --signed   the policy is meant to be signed: warn unless it requires\n"
		 "                 signed policy updates (appraise func=POLICY_CHECK\n"
		 "                 appraise_type=imasig)\n"
		 "  -W, --werror   treat warnings as errors (exit 1)\n"
		 "  -q, --quiet    print errors only\n"
		 "  -h, --help     show this help\n");
}

const struct option long_options[] = {
	{ "signed", no_argument, nullptr, 's' },
	{ "werror", no_argument, nullptr, 'W' },
	{ "quiet", no_argument, nullptr, 'q' },
	{ "help", no_argument, nullptr, 'h' },
	{ nullptr, 0, nullptr, 0 },
};

struct Options {
	LintOptions lint;
	bool werror = false;
	bool quiet = false;
};

Result<Bytes> read_policy(const std::string &path)
{
	if (path == "-") {
		auto data = read_fd(STDIN_FILENO, max_policy_size);
		if (!data)
			return wrap(data.error(), "standard input");
		return data;
	}
	return read_file(path, max_policy_size);
}

// Lints one file; returns whether it fails (errors, or warnings with
// --werror).
bool lint_file(const std::string &path, const Options &o)
{
	auto data = read_policy(path);
	if (!data) {
		report_failure(prog, data.error().what());
		return true;
	}
	std::string_view text(reinterpret_cast<const char *>(data->data()), data->size());
	std::string name = path == "-" ? "<stdin>" : path;

	bool failed = false;
	for (auto &issue : lint_policy(text, o.lint)) {
		bool err = issue.severity == LintIssue::Severity::error;
		failed = failed || err || o.werror;
		if (!err && o.quiet)
			continue;
		std::string where = name + (issue.line ? ":" + std::to_string(issue.line) : "");
		std::fprintf(stderr, "%s: %s: %s\n", where.c_str(), err ? "error" : "warning",
			     issue.message.c_str());
	}
	return failed;
}

} // namespace

int mkinitramfs::cmd_lint_policy(int argc, char **argv)
{
	Options o;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "sWqh", long_options, nullptr)) != -1) {
		switch (c) {
		case 's':
			o.lint.expect_signed_policy = true;
			break;
		case 'W':
			o.werror = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return report_usage_error(prog, std::string("unknown option ") +
							    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return report_usage_error(prog, "no policy file given");

	bool failed = false;
	for (int i = optind; i < argc; i++)
		failed = lint_file(argv[i], o) || failed;
	return failed ? 1 : 0;
}
