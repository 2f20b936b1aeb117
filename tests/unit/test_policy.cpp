#include "imainit/policy.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace imainit;
using namespace std::string_literals;

namespace
{

std::vector<LintIssue> only(const std::vector<LintIssue> &issues, LintIssue::Severity s)
{
	std::vector<LintIssue> out;
	for (auto &i : issues)
		if (i.severity == s)
			out.push_back(i);
	return out;
}

std::vector<LintIssue> errors(const std::vector<LintIssue> &issues)
{
	return only(issues, LintIssue::Severity::error);
}

std::vector<LintIssue> warnings(const std::vector<LintIssue> &issues)
{
	return only(issues, LintIssue::Severity::warning);
}

std::string dump(const std::vector<LintIssue> &issues)
{
	std::string s;
	for (auto &i : issues)
		s += std::to_string(i.line) +
		     (i.severity == LintIssue::Severity::error ? ": error: " : ": warning: ") +
		     i.message + "\n";
	return s;
}

// The exclusions of the kernel's appraise_tcb policy (default_appraise_rules).
const std::string pseudo_fs_exclusions = "dont_appraise fsmagic=0x9fa0\n"
					 "dont_appraise fsmagic=0x62656572\n"
					 "dont_appraise fsmagic=0x64626720\n"
					 "dont_appraise fsmagic=0x01021994\n"
					 "dont_appraise fsmagic=0x858458f6\n"
					 "dont_appraise fsmagic=0x1cd1\n"
					 "dont_appraise fsmagic=0x42494e4d\n"
					 "dont_appraise fsmagic=0x73636673\n"
					 "dont_appraise fsmagic=0xf97cff8c\n"
					 "dont_appraise fsmagic=0x43415d53\n"
					 "dont_appraise fsmagic=0x6e736673\n"
					 "dont_appraise fsmagic=0xde5e81e4\n"
					 "dont_appraise fsmagic=0x27e0eb\n"
					 "dont_appraise fsmagic=0x63677270\n";

} // namespace

TEST_CASE("rules from the kernel's ABI document and built-in policies are accepted")
{
	const char *rules[] = {
		// Documentation/ABI/testing/ima_policy, default policy
		"dont_measure fsmagic=0x9fa0",
		"dont_appraise fsmagic=0x9fa0",
		"dont_measure fsmagic=0x62656572",
		"dont_appraise fsmagic=0x62656572",
		"dont_measure fsmagic=0x64626720",
		"dont_measure fsmagic=0x01021994",
		"dont_appraise fsmagic=0x858458f6",
		"dont_measure fsmagic=0x1cd1",
		"dont_measure fsmagic=0x42494e4d",
		"dont_measure fsmagic=0x73636673",
		"dont_measure fsmagic=0xf97cff8c",
		"dont_measure fsmagic=0x27e0eb",
		"dont_appraise fsmagic=0x6e736673",
		"measure func=BPRM_CHECK",
		"measure func=FILE_MMAP mask=MAY_EXEC",
		"measure func=FILE_CHECK mask=MAY_READ uid=0",
		"measure func=MODULE_CHECK",
		"measure func=FIRMWARE_CHECK",
		"appraise fowner=0",
		// SELinux and Smack examples
		"dont_measure obj_type=var_log_t",
		"dont_appraise obj_type=var_log_t",
		"dont_measure obj_type=auditd_log_t",
		"measure subj_user=system_u func=FILE_CHECK mask=MAY_READ",
		"measure subj_role=system_r func=FILE_CHECK mask=MAY_READ",
		"measure subj_user=_ func=FILE_CHECK mask=MAY_READ",
		// alternate PCRs, modsig, keys, setxattr, fs-verity
		"measure func=KEXEC_KERNEL_CHECK pcr=4",
		"measure func=KEXEC_INITRAMFS_CHECK pcr=5",
		"appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig|modsig",
		"measure func=KEY_CHECK",
		"measure func=KEY_CHECK keyrings=.builtin_trusted_keys|.ima",
		"appraise func=SETXATTR_CHECK appraise_algos=sha256,sha384,sha512",
		"measure func=FILE_CHECK digest_type=verity template=ima-ngv2",
		// The document says template=ima-sigv3, which 6.1 lacks (see below).
		"measure func=BPRM_CHECK digest_type=verity template=ima-sigv2",
		"appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3",
		// ima_policy.c built-in rule tables, written out
		"measure func=FILE_CHECK mask=^MAY_READ euid=0",
		"measure func=FILE_CHECK mask=^MAY_READ uid=0",
		"measure func=POLICY_CHECK",
		"appraise func=POLICY_CHECK appraise_type=imasig",
		"appraise func=MODULE_CHECK appraise_type=imasig",
		"appraise func=FIRMWARE_CHECK appraise_type=imasig",
		"appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig",
		"appraise fowner=0 appraise_type=imasig",
		"measure func=CRITICAL_DATA",
		// the rest of the grammar
		"measure func=CRITICAL_DATA label=selinux|kernel_info",
		"measure func=KEY_CHECK keyrings=.ima template=ima-buf uid=0 gid=0 pcr=11",
		"measure func=KEXEC_CMDLINE fsuuid=8bcbe394-4f13-4144-be8e-5aa9ea2ce2f6 pcr=12",
		"appraise func=MODULE_CHECK appraise_type=imasig|modsig "
		"appraise_flag=check_blacklist",
		"appraise func=KEXEC_INITRAMFS_CHECK appraise_type=imasig|modsig",
		"appraise func=BPRM_CHECK permit_directio appraise_algos=sha256 "
		"appraise_type=imasig",
		"measure func=PATH_CHECK",
		"measure func=MMAP_CHECK mask=MAY_EXEC template=ima-sig pcr=10",
		"measure template=d-ng|n-ng",
		"measure uid>999 fgroup<5",
		"dont_measure fowner>1000 fgroup<100",
		"measure egid=0 fgroup=0",
		"dont_appraise fsname=tmpfs",
		"dont_measure fsmagic=9FA0",
		"audit func=BPRM_CHECK",
		"hash",
		"dont_hash fsmagic=0x1021994",
		"measure func=CREDS_CHECK",
		"measure uid=+7 pcr=+1",
		// Quirks of the kernel's parser it really accepts.
		"dont_measure fsmagic=0 fsmagic=0x9fa0",
		"measure fsname=ext4 fsname=xfs",
		"appraise func=MODULE_CHECK appraise_flag=blacklist_please "
		"appraise_type=imasig|modsig",
	};
	for (auto rule : rules) {
		std::string r = rule;
		CAPTURE(r);
		auto issues = lint_policy(std::string(rule) + "\n");
		CHECK_MESSAGE(errors(issues).empty(), dump(issues));
	}
}

TEST_CASE("the ABI document's ima-sigv3 example is rejected by 6.1 itself")
{
	// builtin_templates[] of 6.1 ends at ima-sigv2 and evm-sig.
	auto errs = errors(lint_policy("measure func=BPRM_CHECK digest_type=verity "
				       "template=ima-sigv3\n"));
	REQUIRE(errs.size() == 1);
	CHECK(errs[0].message == "unknown template 'ima-sigv3'");
}

TEST_CASE("malformed rules are rejected with their line and the offending token")
{
	struct Case {
		const char *rule;
		const char *reason;
	};
	const Case cases[] = {
		{ "measure func=FILE_CHEK", "unknown func 'FILE_CHEK'" },
		{ "measure func=MMAP_CHECK_REQPROT", "added in kernel 6.3" },
		{ "measure func=BPRM_CHECK func=FILE_CHECK",
		  "'func=FILE_CHECK' repeats 'func=BPRM_CHECK'" },
		{ "measure appraise func=BPRM_CHECK", "second action 'appraise'" },
		{ "func=BPRM_CHECK mask=MAY_EXEC", "rule has no action" },
		{ "measure foo=bar", "unknown keyword 'foo=bar'" },
		{ "measure func=", "missing value in 'func='" },
		{ "measure func", "'func' needs a value" },
		{ "measure=yes", "'measure' takes no value" },
		{ "permit_directio=1 appraise", "'permit_directio' takes no value" },
		{ "dont_measure fsmagic>5", "unknown keyword 'fsmagic>5'" },
		{ "measure mask=MAY_EXECUTE", "unknown mask 'MAY_EXECUTE'" },
		{ "measure mask=^", "unknown mask '^'" },
		{ "measure mask=MAY_READ mask=^MAY_EXEC",
		  "'mask=^MAY_EXEC' repeats 'mask=MAY_READ'" },
		{ "dont_measure fsmagic=proc", "invalid fsmagic 'proc'" },
		{ "dont_measure fsmagic=0x", "invalid fsmagic '0x'" },
		{ "dont_measure fsmagic=0x10000000000000000", "invalid fsmagic" },
		{ "dont_measure fsmagic=0x9fa0 fsmagic=0x62656572",
		  "'fsmagic=0x62656572' repeats" },
		{ "measure uid=root", "invalid uid 'root'" },
		{ "measure uid=0x10", "invalid uid '0x10'" },
		{ "measure uid=4294967295", "invalid uid '4294967295'" },
		{ "measure uid=0 euid=0", "'euid=0' repeats 'uid=0'" },
		{ "measure egid=0 gid>5", "'gid>5' repeats 'egid=0'" },
		{ "measure fowner>1 fowner<5", "'fowner<5' repeats 'fowner>1'" },
		{ "measure fgroup=-1", "invalid fgroup '-1'" },
		{ "measure fsuuid=8bcbe394-4f13-4144-be8e", "invalid fsuuid" },
		{ "measure fsuuid=8bcbe394-4f13-4144-be8e-5aa9ea2ce2f6 "
		  "fsuuid=11111111-4f13-4144-be8e-5aa9ea2ce2f6",
		  "'fsuuid=11111111-4f13-4144-be8e-5aa9ea2ce2f6' repeats" },
		{ "measure pcr=64", "invalid pcr '64'" },
		{ "measure pcr=-1", "invalid pcr '-1'" },
		{ "appraise pcr=10", "'pcr=10' is only valid with 'measure', not 'appraise'" },
		{ "measure appraise_type=imasig",
		  "'appraise_type=imasig' is only valid with 'appraise'" },
		{ "dont_appraise appraise_type=imasig", "is only valid with 'appraise'" },
		{ "appraise func=BPRM_CHECK appraise_type=imasig|modsig",
		  "'appraise_type=imasig|modsig' is only valid with func=MODULE_CHECK, "
		  "func=KEXEC_KERNEL_CHECK or func=KEXEC_INITRAMFS_CHECK" },
		{ "appraise func=MODULE_CHECK appraise_type=modsig",
		  "unknown appraise_type 'modsig'" },
		{ "appraise func=MODULE_CHECK appraise_type=imasig appraise_flag=check_blacklist",
		  "'appraise_flag=check_blacklist' needs appraise_type=imasig|modsig" },
		{ "appraise func=MODULE_CHECK appraise_flag=check_revoked",
		  "unknown appraise_flag" },
		{ "measure func=BPRM_CHECK keyrings=.ima",
		  "'keyrings=.ima' is only valid with func=KEY_CHECK" },
		{ "measure func=KEY_CHECK keyrings=.ima|",
		  "empty keyring name in 'keyrings=.ima|'" },
		{ "measure func=KEY_CHECK keyrings=.ima keyrings=.evm",
		  "'keyrings=.evm' repeats 'keyrings=.ima'" },
		{ "measure label=selinux",
		  "'label=selinux' is only valid with func=CRITICAL_DATA" },
		{ "measure func=CRITICAL_DATA label=a||b", "empty label" },
		{ "appraise func=KEY_CHECK",
		  "'func=KEY_CHECK' is not valid with 'appraise' (only measure or dont_measure)" },
		{ "measure func=KEY_CHECK euid=0", "'euid=0' is not valid with 'func=KEY_CHECK'" },
		{ "measure func=KEY_CHECK obj_type=foo_t",
		  "'obj_type=foo_t' is not valid with 'func=KEY_CHECK'" },
		{ "measure func=CRITICAL_DATA fsmagic=0x9fa0",
		  "'fsmagic=0x9fa0' is not valid with 'func=CRITICAL_DATA'" },
		{ "measure func=KEXEC_CMDLINE mask=MAY_READ",
		  "'mask=MAY_READ' is not valid with 'func=KEXEC_CMDLINE'" },
		{ "appraise func=KEXEC_CMDLINE",
		  "'func=KEXEC_CMDLINE' is not valid with 'appraise'" },
		{ "measure func=SETXATTR_CHECK",
		  "'func=SETXATTR_CHECK' is not valid with 'measure' (only appraise)" },
		{ "appraise func=SETXATTR_CHECK", "'func=SETXATTR_CHECK' needs appraise_algos=" },
		{ "appraise func=SETXATTR_CHECK appraise_algos=sha256 fowner=0",
		  "'fowner=0' is not valid with 'func=SETXATTR_CHECK'" },
		{ "appraise appraise_algos=sha256,whirlpool",
		  "unknown hash algorithm 'whirlpool'" },
		{ "appraise appraise_algos=sha256,", "unknown hash algorithm ''" },
		{ "appraise appraise_algos=sha256 appraise_algos=sha512", "repeats" },
		{ "measure appraise_algos=sha256",
		  "'appraise_algos=sha256' is only valid with 'appraise'" },
		{ "template=ima-ng measure", "'template=ima-ng' before the action" },
		{ "dont_measure template=ima-ng",
		  "'template=ima-ng' is only valid with 'measure'" },
		{ "measure template=ima-foo", "unknown template 'ima-foo'" },
		{ "measure template=ima-ng template=ima-sig", "'template=ima-sig' repeats" },
		{ "appraise func=BPRM_CHECK digest_type=sha256", "unknown digest_type 'sha256'" },
		{ "appraise func=BPRM_CHECK appraise_type=imasig digest_type=verity",
		  "wants digest_type=verity before appraise_type=" },
		{ "appraise func=BPRM_CHECK digest_type=verity appraise_type=imasig",
		  "'appraise_type=imasig' conflicts with 'digest_type=verity'" },
		{ "appraise func=BPRM_CHECK appraise_type=sigv3",
		  "'appraise_type=sigv3' needs digest_type=verity before it" },
		{ "appraise func=BPRM_CHECK digest_type=verity", "needs appraise_type=sigv3" },
		{ "measure func=MODULE_CHECK digest_type=verity",
		  "'digest_type=verity' is not valid with 'func=MODULE_CHECK'" },
		{ "measure obj_type=a_t obj_type=b_t", "'obj_type=b_t' repeats 'obj_type=a_t'" },
		{ "hash func=BPRM_CHECK appraise_type=imasig",
		  "is only valid with 'appraise', not 'hash'" },
		{ "measure func=BPRM_CHECK # executables",
		  "'#' starts a comment only at the beginning of a line" },
		{ "measure func=BPRM_CHECK\r", "carriage return in 'func=BPRM_CHECK\\r'" },
		{ "\x0bmeasure", "unknown keyword '\\x0bmeasure'" },
	};
	CHECK(std::size(cases) >= 25);
	for (auto &c : cases) {
		std::string r = c.rule;
		CAPTURE(r);
		auto text = "# header\n\n"s + c.rule + "\nmeasure func=BPRM_CHECK\n";
		auto errs = errors(lint_policy(text));
		REQUIRE_MESSAGE(errs.size() == 1, dump(errs));
		CHECK(errs[0].line == 3);
		CHECK_MESSAGE(errs[0].message.find(c.reason) != std::string::npos, errs[0].message);
	}
}

TEST_CASE("every bad rule is reported, not only the first")
{
	auto issues = lint_policy("measure func=FOO\n"
				  "measure func=BPRM_CHECK\n"
				  "appraise mask=MAY_RUN\n");
	auto errs = errors(issues);
	REQUIRE(errs.size() == 2);
	CHECK(errs[0].line == 1);
	CHECK(errs[0].message == "unknown func 'FOO'");
	CHECK(errs[1].line == 3);
	CHECK(errs[1].message.starts_with("unknown mask 'MAY_RUN'"));
	CHECK(has_errors(issues));
}

TEST_CASE("comments and blank lines are skipped as ima_parse_add_rule does")
{
	SUBCASE("indented comments, blank and whitespace-only lines, tabs between tokens")
	{
		auto issues = lint_policy("# comment\n"
					  "   # indented comment\n"
					  "\t#tab-indented\n"
					  "\n"
					  " \t \n"
					  "  measure\tfunc=BPRM_CHECK   mask=MAY_EXEC \t\n"
					  "#measure func=NOT_A_FUNC\n");
		CHECK_MESSAGE(issues.empty(), dump(issues));
	}
	SUBCASE("a policy of comments only has no rules")
	{
		auto issues = lint_policy("# nothing\n\n");
		REQUIRE(issues.size() == 1);
		CHECK(issues[0].line == 0);
		CHECK(issues[0].severity == LintIssue::Severity::error);
		CHECK(issues[0].message.find("no rules") != std::string::npos);
	}
	SUBCASE("an empty policy has no rules")
	{
		auto errs = errors(lint_policy(""));
		REQUIRE(errs.size() == 1);
		CHECK(errs[0].line == 0);
	}
	SUBCASE("a carriage return makes a blank line a bad rule")
	{
		auto errs = errors(lint_policy("measure func=BPRM_CHECK\n\r\n"));
		REQUIRE(errs.size() == 1);
		CHECK(errs[0].line == 2);
		CHECK(errs[0].message.find("carriage return in '\\r'") != std::string::npos);
	}
	SUBCASE("a carriage return in a free-form value is accepted by the kernel: a warning")
	{
		auto issues = lint_policy("dont_appraise fsname=tmpfs\r\n");
		CHECK(errors(issues).empty());
		auto w = warnings(issues);
		REQUIRE(w.size() == 1);
		CHECK(w[0].line == 1);
		CHECK(w[0].message.find("carriage return in 'fsname=tmpfs\\r'") !=
		      std::string::npos);
	}
	SUBCASE("a missing final newline fails the kernel's file reader")
	{
		auto errs = errors(lint_policy("measure func=BPRM_CHECK\n# last"));
		REQUIRE(errs.size() == 1);
		CHECK(errs[0].line == 2);
		CHECK(errs[0].message.find("does not end with a newline") != std::string::npos);
	}
	SUBCASE("a NUL byte is reported on its line")
	{
		auto errs = errors(lint_policy("measure func=BPRM_CHECK\nmeasure\0 x\n"s));
		REQUIRE(errs.size() == 1);
		CHECK(errs[0].line == 2);
		CHECK(errs[0].message.find("NUL byte") != std::string::npos);
	}
}

TEST_CASE("appraise rules that reach pseudo filesystems are warned about")
{
	const std::string rule = "appraise func=BPRM_CHECK appraise_type=imasig\n";

	SUBCASE("no exclusions: every pseudo filesystem is named")
	{
		auto issues = lint_policy(rule);
		CHECK_FALSE(has_errors(issues));
		auto w = warnings(issues);
		REQUIRE(w.size() == 1);
		CHECK(w[0].line == 1);
		for (auto fs : { "proc", "sysfs", "debugfs", "tmpfs", "ramfs", "devpts",
				 "binfmt_misc", "securityfs", "selinuxfs", "smackfs", "nsfs",
				 "efivarfs", "cgroup", "cgroup2" })
			CHECK_MESSAGE(w[0].message.find(fs) != std::string::npos, fs);
		CHECK(w[0].message.find("dont_appraise fsmagic=0x9fa0") != std::string::npos);
	}
	SUBCASE("the kernel's exclusion list before it silences the warning")
	{
		auto issues = lint_policy(pseudo_fs_exclusions + rule);
		CHECK_MESSAGE(issues.empty(), dump(issues));
	}
	SUBCASE("exclusions may name the filesystem instead of its magic")
	{
		auto issues = lint_policy(
		    "dont_appraise fsname=proc\ndont_appraise fsname=sysfs\n"
		    "dont_appraise fsname=debugfs\ndont_appraise fsname=tmpfs\n"
		    "dont_appraise fsname=ramfs\ndont_appraise fsname=devpts\n"
		    "dont_appraise fsname=binfmt_misc\ndont_appraise fsname=securityfs\n"
		    "dont_appraise fsname=selinuxfs\ndont_appraise fsname=smackfs\n"
		    "dont_appraise fsname=nsfs\ndont_appraise fsname=efivarfs\n"
		    "dont_appraise fsname=cgroup\ndont_appraise fsname=cgroup2\n" +
		    rule);
		CHECK_MESSAGE(issues.empty(), dump(issues));
	}
	SUBCASE("only the missing ones are listed")
	{
		auto text = pseudo_fs_exclusions;
		text.erase(text.find("dont_appraise fsmagic=0x43415d53\n"), 33);
		auto w = warnings(lint_policy(text + rule));
		REQUIRE(w.size() == 1);
		CHECK(w[0].line == 14);
		CHECK(w[0].message.find("for smackfs:") != std::string::npos);
		CHECK(w[0].message.find("proc") == std::string::npos);
	}
	SUBCASE("an exclusion for another func does not count")
	{
		auto text = pseudo_fs_exclusions;
		auto at = text.find("fsmagic=0x9fa0");
		text.insert(at, "func=FILE_CHECK ");
		auto w = warnings(lint_policy(text + rule));
		REQUIRE(w.size() == 1);
		CHECK(w[0].message.find("for proc:") != std::string::npos);
	}
	SUBCASE("an exclusion after the appraise rule does not count")
	{
		auto w = warnings(lint_policy(rule + pseudo_fs_exclusions));
		REQUIRE(w.size() == 1);
		CHECK(w[0].line == 1);
	}
	SUBCASE("a rule restricted to a filesystem is not warned about")
	{
		CHECK(lint_policy("appraise fsmagic=0xef53 appraise_type=imasig\n").empty());
		CHECK(lint_policy("appraise fsname=ext4\n").empty());
		CHECK(
		    lint_policy("appraise fsuuid=8bcbe394-4f13-4144-be8e-5aa9ea2ce2f6\n").empty());
	}
	SUBCASE("module, firmware and policy rules do not touch pseudo filesystems")
	{
		auto issues = lint_policy("appraise func=MODULE_CHECK appraise_type=imasig\n"
					  "appraise func=FIRMWARE_CHECK appraise_type=imasig\n"
					  "appraise func=POLICY_CHECK appraise_type=imasig\n");
		CHECK_MESSAGE(issues.empty(), dump(issues));
	}
	SUBCASE("measure rules are not appraisal")
	{
		CHECK(lint_policy("measure func=BPRM_CHECK\n").empty());
	}
}

TEST_CASE("signature rules placed after exclusions are warned about")
{
	SUBCASE("a tmpfs exclusion exempts policies extracted to tmpfs")
	{
		auto issues = lint_policy("dont_appraise fsmagic=0x01021994\n"
					  "appraise func=POLICY_CHECK appraise_type=imasig\n");
		CHECK_FALSE(has_errors(issues));
		auto w = warnings(issues);
		REQUIRE(w.size() == 1);
		CHECK(w[0].line == 2);
		CHECK(w[0].message.find("after line 1 ('dont_appraise fsmagic=0x01021994')") !=
		      std::string::npos);
	}
	SUBCASE("an earlier appraise rule without imasig accepts hashes first")
	{
		auto w = warnings(lint_policy("appraise func=MODULE_CHECK\n"
					      "appraise func=MODULE_CHECK appraise_type=imasig\n"));
		REQUIRE(w.size() == 1);
		CHECK(w[0].line == 2);
	}
	SUBCASE("exclusions for other funcs do not shadow")
	{
		auto issues = lint_policy("dont_appraise func=BPRM_CHECK fsmagic=0x01021994\n"
					  "appraise func=FIRMWARE_CHECK appraise_type=imasig\n");
		CHECK_MESSAGE(issues.empty(), dump(issues));
	}
	SUBCASE("signature rules first, then exclusions: clean")
	{
		auto issues = lint_policy("appraise func=POLICY_CHECK appraise_type=imasig\n" +
					      pseudo_fs_exclusions +
					      "appraise func=BPRM_CHECK appraise_type=imasig\n",
					  { .expect_signed_policy = true });
		CHECK_MESSAGE(issues.empty(), dump(issues));
	}
}

TEST_CASE("a policy meant to be signed must demand signed policies")
{
	const LintOptions signed_opts{ .expect_signed_policy = true };
	SUBCASE("missing rule: a whole-policy warning")
	{
		auto issues = lint_policy("measure func=BPRM_CHECK\n", signed_opts);
		CHECK_FALSE(has_errors(issues));
		REQUIRE(issues.size() == 1);
		CHECK(issues[0].line == 0);
		CHECK(issues[0].message.find("appraise func=POLICY_CHECK appraise_type=imasig") !=
		      std::string::npos);
	}
	SUBCASE("not asked for: no warning")
	{
		CHECK(lint_policy("measure func=BPRM_CHECK\n").empty());
	}
	SUBCASE("present")
	{
		CHECK(lint_policy("appraise func=POLICY_CHECK appraise_type=imasig\n", signed_opts)
			  .empty());
	}
	SUBCASE("without imasig, or narrowed by a condition, it does not count")
	{
		CHECK(warnings(lint_policy("appraise func=POLICY_CHECK\n", signed_opts)).size() ==
		      1);
		CHECK(warnings(lint_policy("appraise func=POLICY_CHECK fowner=0 "
					   "appraise_type=imasig\n",
					   signed_opts))
			  .size() == 1);
	}
	SUBCASE("whole-policy findings come after the line findings")
	{
		auto issues = lint_policy("measure func=FOO\n", signed_opts);
		REQUIRE(issues.size() == 2);
		CHECK(issues[0].line == 1);
		CHECK(issues[1].line == 0);
	}
}

TEST_CASE("other warnings: LSM labels, fsuuid suffix, custom template")
{
	SUBCASE("LSM conditions fail the first policy load before the LSM policy")
	{
		auto issues = lint_policy("dont_appraise obj_type=var_log_t\n");
		CHECK_FALSE(has_errors(issues));
		auto w = warnings(issues);
		REQUIRE(w.size() == 1);
		CHECK(w[0].message.starts_with("'obj_type=var_log_t' needs the LSM"));
	}
	SUBCASE("characters after a UUID are ignored by the kernel")
	{
		auto w =
		    warnings(lint_policy("measure fsuuid=8bcbe394-4f13-4144-be8e-5aa9ea2ce2f6x\n"));
		REQUIRE(w.size() == 1);
		CHECK(w[0].message.find("'x' after the UUID") != std::string::npos);
	}
	SUBCASE("a template format string that no built-in template has")
	{
		auto issues = lint_policy("measure template=d-ng|n-ng|iuid\n");
		CHECK_FALSE(has_errors(issues));
		auto w = warnings(issues);
		REQUIRE(w.size() == 1);
		CHECK(w[0].message.find("ima_template_fmt=d-ng|n-ng|iuid") != std::string::npos);
	}
	SUBCASE("a warning is dropped when the rule has an error")
	{
		auto issues = lint_policy("measure obj_type=a_t func=NOPE\n");
		REQUIRE(issues.size() == 1);
		CHECK(issues[0].severity == LintIssue::Severity::error);
	}
}

TEST_CASE("the shipped policies lint clean")
{
	namespace fs = std::filesystem;
	fs::path dir = fs::path(IMAINIT_SOURCE_DIR) / "policies";
	unsigned count = 0;
	for (auto &entry : fs::directory_iterator(dir)) {
		if (!entry.is_regular_file() || entry.path().extension() == ".md")
			continue;
		CAPTURE(entry.path().string());
		std::ifstream in(entry.path(), std::ios::binary);
		std::stringstream ss;
		ss << in.rdbuf();
		bool signed_policy =
		    entry.path().filename().string().find("signed") != std::string::npos;
		auto issues = lint_policy(ss.str(), { .expect_signed_policy = signed_policy });
		CHECK_MESSAGE(issues.empty(), dump(issues));
		count++;
	}
	CHECK(count >= 4);
}
