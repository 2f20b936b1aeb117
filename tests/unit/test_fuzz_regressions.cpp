// Inputs found by the fuzz targets (tests/fuzz), reduced to the smallest
// case that shows each problem, so that it stays fixed.
#include "imainit/cpio.h"
#include "imainit/payload.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <sys/stat.h>

using namespace imainit;

namespace
{

Bytes bytes(std::string_view s)
{
	return Bytes(s.begin(), s.end());
}

PayloadEntry file_with_xattr(std::string name)
{
	PayloadEntry e;
	e.path = "f";
	e.data = bytes("data");
	e.xattrs = { { std::move(name), bytes("value") } };
	return e;
}

// A newc header with the given mode, file size and name size, followed by
// a short name: what a truncated or hostile archive looks like.
Bytes newc_header(uint32_t mode, uint32_t filesize, uint32_t namesize)
{
	char buf[111];
	std::snprintf(buf, sizeof(buf),
		      "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u, mode, 0u,
		      0u, 1u, 0u, filesize, 0u, 0u, 0u, 0u, namesize, 0u);
	Bytes out(buf, buf + 110);
	auto name = bytes(std::string_view("name\0\0\0\0", 8));
	out.insert(out.end(), name.begin(), name.end());
	return out;
}

std::string cpio_error(std::span<const uint8_t> data)
{
	auto r = read_cpio(data);
	return r ? std::string("(accepted)") : r.error().what();
}

} // namespace

// fuzz_payload: an entry read from a GNU tar archive carried the xattr name
// "secur\xf4\xff\xff\xffevm". write_payload_tar wrote it as
// "secur%F4%FF%FF%FFevm": libarchive's pax writer URL-encodes names with
// bytes outside 33..126, '%' or '=', its reader does not decode SCHILY
// names, so the rewritten payload silently carried another xattr.
TEST_CASE("fuzz regression: write_payload_tar refuses xattr names pax would change")
{
	for (std::string name : { "user.a b", "user.100%",
				  "secur\xf4\xff\xff\xff"
				  "evm",
				  "user.\x01", "user.\x7f", "user.a=b" }) {
		CAPTURE(name);
		auto r = write_payload_tar({ file_with_xattr(name) }, 0);
		REQUIRE_FALSE(r);
		CHECK(r.error().what() == "entry f: bad xattr name '" + name + "'");
	}

	// Every other printable byte goes through unchanged.
	std::string printable = "user.!\"#$&'()*+,-./:;<>?@[\\]^_`{|}~09AZaz";
	auto tar = write_payload_tar({ file_with_xattr(printable) }, 0);
	REQUIRE(tar);
	ExtractLimits any;
	any.xattr_allow = { "*" };
	auto back = read_payload_tar(*tar, any);
	REQUIRE(back);
	REQUIRE(back->size() == 1);
	REQUIRE((*back)[0].xattrs.size() == 1);
	CHECK((*back)[0].xattrs[0].first == printable);
	CHECK((*back)[0].xattrs[0].second == bytes("value"));
}

// fuzz_cpio: an archive whose second header claimed a name of
// 0xA7242C00 bytes made libarchive allocate 2.8 GB before it found the
// bytes missing. The kernel skips names and symlink targets longer than
// PATH_MAX; read_cpio refuses them before libarchive sees the header.
TEST_CASE("fuzz regression: read_cpio refuses oversized names and symlink targets")
{
	CHECK(cpio_error(newc_header(S_IFREG | 0644, 0, 0xA7242C00)) ==
	      "offset 0: entry at +0: name of 2804165632 bytes is longer than PATH_MAX");
	CHECK(cpio_error(newc_header(S_IFLNK | 0777, 0xFFFFFFFF, 5)) ==
	      "offset 0: entry at +0: symlink target of 4294967295 bytes is longer than "
	      "PATH_MAX");

	// Behind a valid entry, and inside a compressed stream.
	CpioEntry init;
	init.name = "init";
	init.mode = S_IFREG | 0755;
	init.data = bytes("#!/bin/sh\n");
	// The entry "init": 110 + 5 bytes of header and name, padded to 116,
	// then 10 bytes of data padded to 12; the trailer follows.
	Bytes two = write_cpio_newc({ init }, 0);
	two.resize(128);
	auto bad = newc_header(S_IFREG | 0644, 0, 0xFFFFFFFF);
	two.insert(two.end(), bad.begin(), bad.end());
	CHECK(cpio_error(two) ==
	      "offset 0: entry at +128: name of 4294967295 bytes is longer than PATH_MAX");
	auto gz = compress(two, Compression::gzip);
	REQUIRE(gz);
	CHECK(cpio_error(*gz) ==
	      "offset 0+0: entry at +128: name of 4294967295 bytes is longer than PATH_MAX");

	// The second find: junk where the next header should start. libarchive
	// searched onwards, found the header 6 bytes later and allocated the
	// 4 GiB it claimed; the kernel stops at the junk ("no cpio magic").
	Bytes junk(two.begin(), two.begin() + 128);
	for (char c : std::string_view("exec\n\n"))
		junk.push_back(static_cast<uint8_t>(c));
	junk.insert(junk.end(), bad.begin(), bad.end());
	CHECK(cpio_error(junk) ==
	      "offset 0: entry at +128: no newc header where the previous entry ends");
	auto good = write_cpio_newc({ init }, 0);
	Bytes nonhex = good;
	nonhex[6 + 8 * 2 + 3] = ' '; // a blank inside the uid field
	CHECK(cpio_error(nonhex) ==
	      "offset 0: entry at +0: no newc header where the previous entry ends");

	// PATH_MAX itself, the terminating NUL included, is what the kernel
	// still takes.
	CpioEntry longest = init;
	longest.name = std::string(4095, 'n');
	auto ok = read_cpio(write_cpio_newc({ longest }, 0));
	REQUIRE(ok);
	CHECK((*ok)[0].name == longest.name);
	longest.name += 'n';
	CHECK(cpio_error(write_cpio_newc({ longest }, 0)) ==
	      "offset 0: entry at +0: name of 4097 bytes is longer than PATH_MAX");
}
