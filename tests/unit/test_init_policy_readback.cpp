#include "imainit/policy_readback.h"

#include <doctest/doctest.h>

using namespace imainit;

namespace
{

constexpr const char *policy_file = R"(# IMA policy
  # indented comment

dont_measure fsmagic=0x9fa0
dont_appraise fsmagic=9FA0
appraise func=POLICY_CHECK appraise_type=imasig
appraise func=MODULE_CHECK appraise_type=imasig
	measure func=PATH_CHECK mask=MAY_READ uid=0
appraise func=FILE_MMAP fowner=0000 appraise_algos=sha512,sha256
)";

// What ima_policy_show() prints for it: its own option order, hex
// fsmagic, a trailing space on every rule.
constexpr const char *kernel_view =
    "dont_measure fsmagic=0x9fa0 \n"
    "dont_appraise fsmagic=0x9fa0 \n"
    "appraise func=POLICY_CHECK appraise_type=imasig \n"
    "appraise func=MODULE_CHECK appraise_type=imasig \n"
    "measure func=FILE_CHECK mask=MAY_READ uid=0 \n"
    "appraise func=MMAP_CHECK fowner=0 appraise_algos=sha256,sha512 \n";

} // namespace

TEST_CASE("policy_rule_lines skips comments and blank lines like the kernel")
{
	auto lines = policy_rule_lines(policy_file);
	REQUIRE(lines.size() == 6);
	CHECK(lines[0] == "dont_measure fsmagic=0x9fa0");
	CHECK(lines[4] == "measure func=PATH_CHECK mask=MAY_READ uid=0");
	CHECK(policy_rule_lines("").empty());
	CHECK(policy_rule_lines("#x\n\n   \n").empty());
	CHECK(policy_rule_lines("measure func=BPRM_CHECK").size() == 1);
}

TEST_CASE("normalise_policy_rule: option order, hex, aliases, numbers")
{
	CHECK(normalise_policy_rule("appraise appraise_type=imasig func=POLICY_CHECK ") ==
	      normalise_policy_rule("appraise func=POLICY_CHECK appraise_type=imasig"));
	CHECK(normalise_policy_rule("dont_measure fsmagic=9FA0") == "dont_measure fsmagic=0x9fa0");
	CHECK(normalise_policy_rule("measure func=PATH_CHECK") == "measure func=FILE_CHECK");
	CHECK(normalise_policy_rule("measure func=FILE_MMAP") == "measure func=MMAP_CHECK");
	CHECK(normalise_policy_rule("measure uid<0100 euid>7") == "measure euid>7 uid<100");
	CHECK(normalise_policy_rule("measure fsuuid=ABCDEF01-0000-0000-0000-000000000000") ==
	      "measure fsuuid=abcdef01-0000-0000-0000-000000000000");
	CHECK(normalise_policy_rule("appraise appraise_algos=sha512,sha256,sha384") ==
	      "appraise appraise_algos=sha256,sha384,sha512");
	CHECK(normalise_policy_rule("appraise\tpermit_directio  func=BPRM_CHECK") ==
	      "appraise func=BPRM_CHECK permit_directio");
	// Values that are not numbers stay as they are: the lint reports them.
	CHECK(normalise_policy_rule("measure uid=root") == "measure uid=root");
	CHECK(normalise_policy_rule("") == "");
	// Actions are not options: their order matters.
	CHECK(normalise_policy_rule("measure func=BPRM_CHECK") !=
	      normalise_policy_rule("appraise func=BPRM_CHECK"));
}

TEST_CASE("compare_policy_readback: identical after normalisation")
{
	auto r = compare_policy_readback(policy_file, kernel_view);
	CHECK(r.match);
	CHECK(r.file_rules == 6);
	CHECK(r.kernel_rules == 6);
	CHECK(r.detail == "all 6 rules match");
}

TEST_CASE("compare_policy_readback: kernel rules around the file's")
{
	std::string k = std::string("appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig \n") +
			kernel_view + "measure func=BPRM_CHECK \n";
	auto r = compare_policy_readback(policy_file, k);
	CHECK(r.match);
	CHECK(r.kernel_rules == 8);
	CHECK(r.detail == "all 6 rules match, from kernel rule 2 of 8");
}

TEST_CASE("compare_policy_readback names the first rule that differs")
{
	std::string k = kernel_view;
	k.replace(k.find("MODULE_CHECK"), 12, "FIRMWARE_CHECK");
	auto r = compare_policy_readback(policy_file, k);
	CHECK_FALSE(r.match);
	CHECK(r.detail ==
	      "rule 4 of the file (\"appraise func=MODULE_CHECK appraise_type=imasig\") "
	      "was read back as \"appraise func=FIRMWARE_CHECK appraise_type=imasig\"");
}

TEST_CASE("compare_policy_readback: a rule missing at the end of the kernel's policy")
{
	std::string k = kernel_view;
	k.erase(k.find("appraise func=MMAP_CHECK"));
	auto r = compare_policy_readback(policy_file, k);
	CHECK_FALSE(r.match);
	CHECK(r.kernel_rules == 5);
	CHECK(r.detail.starts_with("rule 6 of the file (\"appraise func=FILE_MMAP"));
	CHECK(r.detail.ends_with("is missing from the kernel's policy"));
}

TEST_CASE("compare_policy_readback: nothing in common, or an empty file")
{
	auto r = compare_policy_readback(policy_file, "measure func=BPRM_CHECK \n");
	CHECK_FALSE(r.match);
	CHECK(r.detail == "rule 1 of the file (\"dont_measure fsmagic=0x9fa0\") is not in the "
			  "kernel's policy");
	r = compare_policy_readback(policy_file, "");
	CHECK_FALSE(r.match);
	CHECK(r.kernel_rules == 0);

	r = compare_policy_readback("# nothing\n", "measure func=BPRM_CHECK \n");
	CHECK(r.match);
	CHECK(r.file_rules == 0);
}
