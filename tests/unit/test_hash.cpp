#include "imainit/hash.h"
#include "imainit/io.h"

#include <doctest/doctest.h>

using namespace imainit;

TEST_CASE("hash algorithms use the kernel's hash_info.h ids")
{
	CHECK(static_cast<int>(*hash_algo_from_name("sha256")) == 4);
	CHECK(static_cast<int>(*hash_algo_from_name("sha384")) == 5);
	CHECK(static_cast<int>(*hash_algo_from_name("sha512")) == 6);
	CHECK_FALSE(hash_algo_from_name("md5").has_value());
	CHECK_FALSE(hash_algo_from_id(99).has_value());
	CHECK(hash_algo_size(HashAlgo::sha384) == 48);
}

TEST_CASE("digest of a known buffer")
{
	auto d = digest_buffer(HashAlgo::sha256, as_bytes("abc"));
	REQUIRE(d);
	CHECK(to_hex(*d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
