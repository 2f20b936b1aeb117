#include "imainit/config.h"

#include <doctest/doctest.h>

using namespace imainit;

namespace
{

std::string parse_error(std::string_view text)
{
	auto r = parse_config(text);
	return r ? std::string("(accepted)") : r.error().what();
}

void check_equal(const InitConfig &a, const InitConfig &b)
{
	CHECK(a.ima_cert == b.ima_cert);
	CHECK(a.evm_cert == b.evm_cert);
	CHECK(a.ca_cert == b.ca_cert);
	CHECK(a.policy == b.policy);
	CHECK(a.evm_mode == b.evm_mode);
	CHECK(a.failure_action == b.failure_action);
	CHECK(a.allow_untrusted_keyring == b.allow_untrusted_keyring);
	CHECK(a.lock_keyrings == b.lock_keyrings);
	CHECK(a.require_signed_init == b.require_signed_init);
	CHECK(a.root_wait == b.root_wait);
	REQUIRE(a.modules.size() == b.modules.size());
	for (size_t i = 0; i < a.modules.size(); i++) {
		CHECK(a.modules[i].path == b.modules[i].path);
		CHECK(a.modules[i].optional == b.modules[i].optional);
	}
	CHECK(a.firmware == b.firmware);
	CHECK(a.xattr_allow == b.xattr_allow);
}

} // namespace

TEST_CASE("config: a full file")
{
	auto c = parse_config("# what /init does\n"
			      "\n"
			      "ima_cert = etc/keys/x509_ima.der\n"
			      "evm_cert=etc/keys/x509_evm.der\n"
			      "\tca_cert\t=\tetc/keys/ca.der  \r\n"
			      "policy = etc/ima/ima-policy\n"
			      "  # indented comment\n"
			      "evm_mode = 0x80000002\n"
			      "failure_action = reboot\n"
			      "allow_untrusted_keyring = yes\n"
			      "lock_keyrings = false\n"
			      "require_signed_init = 1\n"
			      "root_wait = 5\n"
			      "module = lib/modules/virtio_ring.ko\n"
			      "module = lib/modules/virtio_blk.ko   optional\n"
			      "module = lib/modules/ext4.ko\n"
			      "firmware = lib/firmware/a.bin\n"
			      "firmware = lib/firmware/b.bin\n"
			      "xattr_allow = user.test\n"
			      "xattr_allow = security.SMACK64\n");
	REQUIRE_MESSAGE(c, c.error().what());
	CHECK(c->ima_cert == "etc/keys/x509_ima.der");
	CHECK(c->evm_cert == "etc/keys/x509_evm.der");
	CHECK(c->ca_cert == "etc/keys/ca.der");
	CHECK(c->policy == "etc/ima/ima-policy");
	CHECK(c->evm_mode == 0x80000002);
	CHECK(c->failure_action == FailureAction::reboot);
	CHECK(c->allow_untrusted_keyring);
	CHECK_FALSE(c->lock_keyrings);
	CHECK(c->require_signed_init);
	CHECK(c->root_wait == 5);
	REQUIRE(c->modules.size() == 3);
	CHECK(c->modules[0].path == "lib/modules/virtio_ring.ko");
	CHECK_FALSE(c->modules[0].optional);
	CHECK(c->modules[1].path == "lib/modules/virtio_blk.ko");
	CHECK(c->modules[1].optional);
	CHECK(c->modules[2].path == "lib/modules/ext4.ko");
	CHECK(c->firmware ==
	      std::vector<std::string>{ "lib/firmware/a.bin", "lib/firmware/b.bin" });
	CHECK(c->xattr_allow == std::vector<std::string>{ "user.test", "security.SMACK64" });
}

TEST_CASE("config: defaults")
{
	auto c = parse_config("");
	REQUIRE(c);
	CHECK(c->ima_cert.empty());
	CHECK(c->policy.empty());
	CHECK(c->evm_mode == 0x80000002);
	CHECK(c->failure_action == FailureAction::halt);
	CHECK_FALSE(c->allow_untrusted_keyring);
	CHECK(c->lock_keyrings);
	CHECK_FALSE(c->require_signed_init);
	CHECK(c->root_wait == 30);
	CHECK(c->modules.empty());

	// An empty path value means "none"; no trailing newline is needed.
	auto none = parse_config("policy =\nima_cert = etc/x");
	REQUIRE(none);
	CHECK(none->policy.empty());
	CHECK(none->ima_cert == "etc/x");

	// '#' starts a comment only at the start of a line.
	auto hash = parse_config("policy = etc/a#b\n");
	REQUIRE(hash);
	CHECK(hash->policy == "etc/a#b");
}

TEST_CASE("config: values")
{
	for (auto [text, want] : { std::pair{ "yes", true },
				   { "true", true },
				   { "1", true },
				   { "no", false },
				   { "false", false },
				   { "0", false } }) {
		auto c = parse_config(std::string("require_signed_init = ") + text);
		REQUIRE(c);
		CHECK(c->require_signed_init == want);
	}
	CHECK(parse_config("evm_mode = 2")->evm_mode == 2);
	CHECK(parse_config("evm_mode = 0")->evm_mode == 0);
	CHECK(parse_config("evm_mode = 0X80000006")->evm_mode == 0x80000006);
	CHECK(parse_config("evm_mode = 2147483651")->evm_mode == 0x80000003);
	CHECK(parse_config("root_wait = 0")->root_wait == 0);
	CHECK(parse_config("failure_action = panic")->failure_action == FailureAction::panic);
	CHECK(parse_config("failure_action = halt")->failure_action == FailureAction::halt);
}

TEST_CASE("config: errors name the line and the key")
{
	CHECK(parse_error("policy = etc/p\nfoo = bar\n") == "line 2: unknown key 'foo'");
	CHECK(parse_error("\n\njust words\n") == "line 3: expected 'key = value'");
	CHECK(parse_error("evm_mode = 2\n# c\nevm_mode = 0\n") ==
	      "line 3: evm_mode is already set on line 1");
	CHECK(parse_error("lock_keyrings = maybe") ==
	      "line 1: lock_keyrings: bad value 'maybe': expected yes/no/true/false/1/0");
	CHECK(parse_error("allow_untrusted_keyring = Yes") ==
	      "line 1: allow_untrusted_keyring: bad value 'Yes': expected yes/no/true/false/1/0");
	CHECK(parse_error("evm_mode = 0x8") ==
	      "line 1: evm_mode: bad value '0x8': unknown bits 0x8 (the kernel knows 0x80000007)");
	CHECK(parse_error("evm_mode = 010") ==
	      "line 1: evm_mode: bad value '010': leading zero (octal or decimal?)");
	CHECK(parse_error("evm_mode = 0x100000000") ==
	      "line 1: evm_mode: bad value '0x100000000': number out of range");
	CHECK(parse_error("evm_mode = two") ==
	      "line 1: evm_mode: bad value 'two': expected a decimal or 0x-prefixed hex number");
	CHECK(parse_error("evm_mode = 0x") ==
	      "line 1: evm_mode: bad value '0x': expected a decimal or 0x-prefixed hex number");
	CHECK(parse_error("evm_mode = 2 # comment") ==
	      "line 1: evm_mode: bad value '2 # comment': expected a decimal or 0x-prefixed hex "
	      "number");
	CHECK(parse_error("root_wait = 0x10") ==
	      "line 1: root_wait: bad value '0x10': expected a decimal number");
	CHECK(parse_error("root_wait = -1") ==
	      "line 1: root_wait: bad value '-1': expected a decimal number");
	CHECK(parse_error("root_wait =") ==
	      "line 1: root_wait: bad value '': expected a decimal number");
	CHECK(parse_error("failure_action = shell") ==
	      "line 1: failure_action: bad value 'shell': expected halt, reboot or panic");
	CHECK(parse_error("policy = /etc/ima/ima-policy") ==
	      "line 1: policy: bad value '/etc/ima/ima-policy': path must be relative to the "
	      "payload root");
	CHECK(
	    parse_error("ca_cert = etc/../ca.der") ==
	    "line 1: ca_cert: bad value 'etc/../ca.der': path has an empty, '.' or '..' component");
	CHECK(parse_error("ima_cert = etc//x") ==
	      "line 1: ima_cert: bad value 'etc//x': path has an empty, '.' or '..' component");
	CHECK(parse_error("evm_cert = etc/keys/") ==
	      "line 1: evm_cert: bad value 'etc/keys/': path ends with '/'");
	CHECK(parse_error("policy = etc/my policy") ==
	      "line 1: policy: bad value 'etc/my policy': path contains blanks");
	CHECK(parse_error("module = lib/a.ko sometimes") ==
	      "line 1: module: bad value 'lib/a.ko sometimes': expected PATH [optional], not "
	      "'sometimes'");
	CHECK(parse_error("module =") == "line 1: module: bad value '': expected PATH [optional]");
	CHECK(parse_error("module = ./a.ko") ==
	      "line 1: module: bad value './a.ko': path has an empty, '.' or '..' component");
	CHECK(parse_error("firmware =") == "line 1: firmware: bad value '': expected PATH");
	CHECK(parse_error("firmware = lib/fw/a b") ==
	      "line 1: firmware: bad value 'lib/fw/a b': path contains blanks");
	CHECK(parse_error("xattr_allow = user.") ==
	      "line 1: xattr_allow: bad value 'user.': expected security.NAME, trusted.NAME or "
	      "user.NAME");
	CHECK(parse_error("xattr_allow = system.posix_acl_access") ==
	      "line 1: xattr_allow: bad value 'system.posix_acl_access': expected security.NAME, "
	      "trusted.NAME or "
	      "user.NAME");
	CHECK(parse_error("xattr_allow = user.a b") ==
	      "line 1: xattr_allow: bad value 'user.a b': expected security.NAME, trusted.NAME or "
	      "user.NAME");
}

TEST_CASE("config: format_config parses back to the same configuration")
{
	InitConfig c;
	c.ima_cert = "etc/keys/x509_ima.der";
	c.evm_cert = "etc/keys/x509_evm.der";
	c.ca_cert = "etc/keys/ca.der";
	c.policy = "etc/ima/ima-policy";
	c.evm_mode = 0x80000006;
	c.failure_action = FailureAction::panic;
	c.allow_untrusted_keyring = true;
	c.lock_keyrings = false;
	c.require_signed_init = true;
	c.root_wait = 0;
	c.modules = { { "lib/modules/b.ko", true }, { "lib/modules/a.ko", false } };
	c.firmware = { "lib/firmware/x.bin" };
	c.xattr_allow = { "user.test", "security.SMACK64" };
	auto text = format_config(c);
	auto back = parse_config(text);
	REQUIRE_MESSAGE(back, back.error().what());
	check_equal(c, *back);
	CHECK(format_config(*back) == text);
	CHECK(text.find("evm_mode = 0x80000006\n") != std::string::npos);
	CHECK(text.find("module = lib/modules/b.ko optional\n") != std::string::npos);

	InitConfig d;
	auto dback = parse_config(format_config(d));
	REQUIRE(dback);
	check_equal(d, *dback);
}

TEST_CASE("config: failure action names")
{
	for (auto a : { FailureAction::halt, FailureAction::reboot, FailureAction::panic })
		CHECK(*failure_action_from_name(failure_action_name(a)) == a);
	auto bad = failure_action_from_name("poweroff");
	REQUIRE_FALSE(bad);
	CHECK(bad.error().what() ==
	      "unknown failure action 'poweroff' (expected halt, reboot or panic)");
}
