#include "imainit/proc_keys.h"

#include <doctest/doctest.h>

using namespace imainit;

namespace
{

// /proc/keys of a 6.1 kernel with CONFIG_INTEGRITY_TRUSTED_KEYRING after
// one certificate went into .ima (widths as proc_keys_show() prints them,
// the key type cut to 9 characters).
constexpr const char *sample =
    R"(0245b8f1 I------     1 perm 1f0b0000     0     0 keyring   .builtin_trusted_keys: 1
0c8e2c1b I------     1 perm 1f0f0000     0     0 keyring   .ima: 1
11d5ee38 I------     1 perm 1f0f0000     0     0 keyring   .evm: empty
16a1d028 I--Q---     1 perm 0c030000     0 65534 keyring   .user_reg: 2
19d08fbd I--Q---     1 perm 1f3f0000     0 65534 keyring   _uid_ses.0: 1
2ad9e4b1 I------     1 perm 1f030000     0     0 asymmetri ima-local-ca: a1b2c3d4e5f6: X509.ecdsa a1b2c3d4 []
3c68fcbe I--Q---     2 perm 1f3f0000     0 65534 keyring   _uid.0: empty
3d000001 I--Q---     1 perm 3f010000  1000  1000 keyring   _ima: empty
3d000002 I--Q---     1 perm 3f010000     0     0 keyring   _ima: 1
3d000003 I--Q---     1  53s 3f010000     0     0 user      some key with spaces: 5
3d000004 -R-Q---     1 expd 3f010000     0     0 keyring   _evm
)";

} // namespace

TEST_CASE("parse_proc_keys reads every field")
{
	auto keys = parse_proc_keys(sample);
	REQUIRE(keys.has_value());
	REQUIRE(keys->size() == 11);
	auto &ima = (*keys)[1];
	CHECK(ima.serial == 0x0c8e2c1b);
	CHECK(ima.flags == "I------");
	CHECK(ima.usage == 1);
	CHECK(ima.expiry == "perm");
	CHECK(ima.perm == 0x1f0f0000);
	CHECK(ima.uid == 0);
	CHECK(ima.gid == 0);
	CHECK(ima.type == "keyring");
	CHECK(ima.description == ".ima: 1");
	CHECK(ima.name() == ".ima");
	CHECK(ima.key_count() == 1u);

	auto &cert = (*keys)[5];
	CHECK(cert.type == "asymmetri");
	CHECK(cert.description == "ima-local-ca: a1b2c3d4e5f6: X509.ecdsa a1b2c3d4 []");
	// Not a keyring: the description is the name, colons and all.
	CHECK(cert.name() == cert.description);
	CHECK_FALSE(cert.key_count().has_value());

	auto &user = (*keys)[9];
	CHECK(user.expiry == "53s");
	CHECK(user.description == "some key with spaces: 5");
	CHECK(user.gid == 0);
}

TEST_CASE("keyring names drop the count suffix only")
{
	auto keys = parse_proc_keys(sample);
	REQUIRE(keys);
	CHECK((*keys)[2].name() == ".evm");
	CHECK((*keys)[2].key_count() == 0u);
	CHECK((*keys)[3].name() == ".user_reg");
	CHECK((*keys)[3].key_count() == 2u);
	// Not instantiated: keyring_describe() prints the bare name.
	CHECK((*keys)[10].name() == "_evm");
	CHECK_FALSE((*keys)[10].key_count().has_value());

	ProcKey k;
	k.type = "keyring";
	k.description = "odd: name: x";
	CHECK(k.name() == "odd: name: x");
}

TEST_CASE("find_keyring finds the kernel's keyrings and prefers uid 0")
{
	auto keys = parse_proc_keys(sample);
	REQUIRE(keys);
	auto ima = find_keyring(*keys, ".ima");
	REQUIRE(ima);
	CHECK(ima->serial == 0x0c8e2c1b);
	REQUIRE(find_keyring(*keys, ".evm"));
	CHECK_FALSE(find_keyring(*keys, ".platform"));
	// "ima-local-ca" is an asymmetric key, not a keyring.
	CHECK_FALSE(find_keyring(*keys, "ima-local-ca"));

	// Two _ima keyrings: the one of uid 1000 is listed first.
	auto underscore = find_keyring(*keys, "_ima");
	REQUIRE(underscore);
	CHECK(underscore->serial == 0x3d000002);
	// A revoked keyring is no use.
	CHECK_FALSE(find_keyring(*keys, "_evm"));

	CHECK(find_key(*keys, 0x2ad9e4b1)->type == "asymmetri");
	CHECK_FALSE(find_key(*keys, 42));
}

TEST_CASE("a keyring owned by another user is found when it is the only one")
{
	auto keys = parse_proc_keys(
	    "3d000001 I--Q---     1 perm 3f010000  1000  1000 keyring   _ima: empty\n");
	REQUIRE(keys);
	auto k = find_keyring(*keys, "_ima");
	REQUIRE(k);
	CHECK(k->uid == 1000);
}

TEST_CASE("parse_proc_keys: empty text and blank lines")
{
	auto keys = parse_proc_keys("");
	REQUIRE(keys);
	CHECK(keys->empty());
	keys = parse_proc_keys("\n  \n");
	REQUIRE(keys);
	CHECK(keys->empty());
}

TEST_CASE("parse_proc_keys names the malformed line")
{
	auto bad = [](const char *text) {
		auto k = parse_proc_keys(text);
		REQUIRE_FALSE(k.has_value());
		return k.error().what();
	};
	CHECK(bad("zzzz I------ 1 perm 1f0b0000 0 0 keyring x") ==
	      "/proc/keys line 1: bad serial: \"zzzz I------ 1 perm 1f0b0000 0 0 keyring x\"");
	CHECK(bad("\n0245b8f1 I-- 1 perm 1f0b0000 0 0 keyring x")
		  .starts_with("/proc/keys line 2: bad flags"));
	CHECK(bad("0245b8f1 I------ x perm 1f0b0000 0 0 keyring x")
		  .starts_with("/proc/keys line 1: bad usage count"));
	CHECK(bad("0245b8f1 I------ 1").starts_with("/proc/keys line 1: no expiry"));
	CHECK(bad("0245b8f1 I------ 1 perm zz 0 0 keyring x")
		  .starts_with("/proc/keys line 1: bad permissions"));
	CHECK(bad("0245b8f1 I------ 1 perm 1f0b0000 u 0 keyring x")
		  .starts_with("/proc/keys line 1: bad uid"));
	CHECK(bad("0245b8f1 I------ 1 perm 1f0b0000 0 g keyring x")
		  .starts_with("/proc/keys line 1: bad gid"));
	CHECK(bad("0245b8f1 I------ 1 perm 1f0b0000 0 0")
		  .starts_with("/proc/keys line 1: no key type"));
}

TEST_CASE("describe_key_perm spells out the classes")
{
	// integrity_init_keyring(): KEY_POS_ALL & ~KEY_POS_SETATTR, user view,
	// read, search and (trusted keyring) write.
	CHECK(describe_key_perm(0x1f0f0000) ==
	      "possessor: view read write search link; user: view read write search; "
	      "group: none; other: none");
	CHECK(describe_key_perm(0x3f010000) ==
	      "possessor: view read write search link setattr; user: view; group: none; "
	      "other: none");
	CHECK(describe_key_perm(0x00000101) ==
	      "possessor: none; user: none; group: view; other: view");
}
