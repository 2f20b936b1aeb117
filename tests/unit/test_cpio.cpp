#include "imainit/cpio.h"

#include <doctest/doctest.h>

#include <cstring>
#include <lzma.h>
#include <map>
#include <sys/stat.h>

using namespace imainit;

namespace
{

Bytes bytes(std::string_view s)
{
	return Bytes(s.begin(), s.end());
}

CpioEntry dir(std::string name, mode_t perm = 0755)
{
	CpioEntry e;
	e.name = std::move(name);
	e.mode = S_IFDIR | perm;
	return e;
}

CpioEntry file(std::string name, std::string_view content, mode_t perm = 0644)
{
	CpioEntry e;
	e.name = std::move(name);
	e.mode = S_IFREG | perm;
	e.data = bytes(content);
	return e;
}

CpioEntry chr(std::string name, uint32_t maj, uint32_t min, mode_t perm = 0600)
{
	CpioEntry e;
	e.name = std::move(name);
	e.mode = S_IFCHR | perm;
	e.rdev_major = maj;
	e.rdev_minor = min;
	return e;
}

CpioEntry slink(std::string name, std::string_view target)
{
	CpioEntry e;
	e.name = std::move(name);
	e.mode = S_IFLNK | 0777;
	e.data = bytes(target);
	return e;
}

// An independent reading of the newc layout, with the kernel's arithmetic
// (N_ALIGN in init/initramfs.c), to check the writer byte by byte.
struct RawHeader {
	uint32_t
	    f[13]; // ino mode uid gid nlink mtime filesize devmaj devmin rmaj rmin namesize check
	std::string name;
	Bytes data;
	size_t offset;
};

std::vector<RawHeader> parse_raw(const Bytes &a)
{
	std::vector<RawHeader> out;
	size_t pos = 0;
	for (;;) {
		REQUIRE(pos % 4 == 0);
		REQUIRE(pos + 110 <= a.size());
		REQUIRE(std::memcmp(a.data() + pos, "070701", 6) == 0);
		RawHeader h;
		h.offset = pos;
		for (int i = 0; i < 13; i++) {
			std::string field(
			    reinterpret_cast<const char *>(a.data() + pos + 6 + 8 * i), 8);
			for (char c : field)
				REQUIRE(std::isxdigit(static_cast<unsigned char>(c)));
			h.f[i] = static_cast<uint32_t>(std::stoul(field, nullptr, 16));
		}
		size_t namesize = h.f[11];
		REQUIRE(namesize > 0);
		REQUIRE(a[pos + 110 + namesize - 1] == 0);
		h.name.assign(reinterpret_cast<const char *>(a.data() + pos + 110), namesize - 1);
		size_t n_align = ((namesize + 1) & ~size_t(3)) + 2;
		size_t body = pos + 110 + n_align;
		CHECK(body % 4 == 0);
		for (size_t i = pos + 110 + namesize; i < body; i++)
			CHECK(a[i] == 0);
		h.data.assign(a.begin() + body, a.begin() + body + h.f[6]);
		pos = (body + h.f[6] + 3) & ~size_t(3);
		for (size_t i = body + h.f[6]; i < pos; i++)
			CHECK(a[i] == 0);
		bool trailer = h.name == "TRAILER!!!";
		out.push_back(std::move(h));
		if (trailer)
			break;
	}
	for (size_t i = pos; i < a.size(); i++)
		CHECK(a[i] == 0);
	return out;
}

std::map<std::string, CpioEntry> by_name(const std::vector<CpioEntry> &v)
{
	std::map<std::string, CpioEntry> m;
	for (auto &e : v)
		m[e.name] = e;
	return m;
}

Bytes cat(std::initializer_list<Bytes> parts)
{
	Bytes out;
	for (auto &p : parts)
		out.insert(out.end(), p.begin(), p.end());
	return out;
}

Bytes compressed(const Bytes &b, Compression c)
{
	auto r = compress(b, c);
	REQUIRE(r);
	return *r;
}

std::string error_of(const Result<std::vector<CpioEntry>> &r)
{
	REQUIRE_FALSE(r.has_value());
	return r.error().what();
}

// A compressible, not trivially repetitive buffer.
Bytes sample_data(size_t n)
{
	Bytes b(n);
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		b[i] = static_cast<uint8_t>("abcdefgh"[(x >> 16) % 8]);
	}
	return b;
}

} // namespace

TEST_CASE("newc: one file, byte for byte")
{
	Bytes a = write_cpio_newc({ file("a", "hi") }, 0x1234);
	// Built piecewise: embedded NULs do not survive a C string literal.
	std::string h1 = "070701"
			 "00000001"
			 "000081A4"
			 "00000000"
			 "00000000"
			 "00000001"
			 "00001234"
			 "00000002"
			 "00000000"
			 "00000000"
			 "00000000"
			 "00000000"
			 "00000002"
			 "00000000";
	std::string t = "070701"
			"00000000"
			"00000000"
			"00000000"
			"00000000"
			"00000001"
			"00000000"
			"00000000"
			"00000000"
			"00000000"
			"00000000"
			"00000000"
			"0000000B"
			"00000000";
	Bytes want = bytes(h1);
	for (char c : std::string("a\0hi\0\0", 6))
		want.push_back(static_cast<uint8_t>(c));
	CHECK(want.size() == 116);
	Bytes tb = bytes(t);
	want.insert(want.end(), tb.begin(), tb.end());
	for (char c : std::string("TRAILER!!!\0\0\0\0", 14))
		want.push_back(static_cast<uint8_t>(c));
	CHECK(want.size() == 240);
	want.resize(512, 0);
	CHECK(a == want);
}

TEST_CASE("newc: kernel alignment for every name length and data size")
{
	std::vector<CpioEntry> v;
	for (int n = 1; n <= 9; n++)
		v.push_back(file(std::string(n, 'a' + n), std::string(n, 'x')));
	Bytes a = write_cpio_newc(v, 0);
	CHECK(a.size() % 512 == 0);
	auto raw = parse_raw(a); // checks N_ALIGN name padding and 4-byte data padding
	REQUIRE(raw.size() == 10);
	for (int n = 1; n <= 9; n++) {
		CHECK(raw[n - 1].name == std::string(n, 'a' + n));
		CHECK(raw[n - 1].data == bytes(std::string(n, 'x')));
	}
}

TEST_CASE("newc: sorted, fixed mtime, sequential inodes, nlink, devices")
{
	std::vector<CpioEntry> v = {
		file("ima-init/payload.tar", "TAR", 0600),
		chr("/dev/console", 5, 1),
		dir("ima-init"),
		file("init", "ELF", 0755),
		dir("dev"),
		slink("bin", "usr/bin"),
	};
	v[0].uid = 7;
	v[0].gid = 9;
	Bytes a = write_cpio_newc(v, 1700000000);
	auto raw = parse_raw(a);
	REQUIRE(raw.size() == 7);
	std::vector<std::string> names;
	for (auto &h : raw)
		names.push_back(h.name);
	CHECK(names == std::vector<std::string>{ "bin", "dev", "dev/console", "ima-init",
						 "ima-init/payload.tar", "init", "TRAILER!!!" });
	for (size_t i = 0; i + 1 < raw.size(); i++) {
		CHECK(raw[i].f[0] == i + 1);	   // ino
		CHECK(raw[i].f[5] == 1700000000u); // mtime
		CHECK(raw[i].f[12] == 0);	   // check
	}
	CHECK(raw[0].f[1] == (S_IFLNK | 0777));
	CHECK(raw[0].data == bytes("usr/bin"));
	CHECK(raw[0].f[4] == 1);
	CHECK(raw[1].f[1] == (S_IFDIR | 0755));
	CHECK(raw[1].f[4] == 2); // dirs: nlink 2
	CHECK(raw[1].f[6] == 0);
	CHECK(raw[2].f[1] == (S_IFCHR | 0600));
	CHECK(raw[2].f[9] == 5);
	CHECK(raw[2].f[10] == 1);
	CHECK(raw[2].f[6] == 0);
	CHECK(raw[4].f[2] == 7);
	CHECK(raw[4].f[3] == 9);
	CHECK(raw[4].f[4] == 1);
	CHECK(raw[4].data == bytes("TAR"));
	CHECK(raw[5].f[1] == (S_IFREG | 0755));
	CHECK(raw[6].f[0] == 0);

	// Same input in another order: same bytes.
	std::vector<CpioEntry> w(v.rbegin(), v.rend());
	CHECK(write_cpio_newc(w, 1700000000) == a);
}

TEST_CASE("newc: what is written reads back")
{
	Bytes big = sample_data(100000);
	CpioEntry bigf = file("big", "");
	bigf.data = big;
	Bytes a = write_cpio_newc({ dir("dev"), chr("dev/console", 5, 1), file("init", "#!x", 0755),
				    slink("sbin", "bin"), bigf },
				  0);
	auto r = read_cpio(a);
	REQUIRE(r);
	REQUIRE(r->size() == 5);
	auto m = by_name(*r);
	CHECK(m["dev"].mode == (S_IFDIR | 0755));
	CHECK(m["dev/console"].mode == (S_IFCHR | 0600));
	CHECK(m["dev/console"].rdev_major == 5);
	CHECK(m["dev/console"].rdev_minor == 1);
	CHECK(m["init"].data == bytes("#!x"));
	CHECK(m["init"].mode == (S_IFREG | 0755));
	CHECK(m["sbin"].mode == (S_IFLNK | 0777));
	CHECK(m["sbin"].data == bytes("bin"));
	CHECK(m["big"].data == big);
}

TEST_CASE("gen_init_cpio list lines")
{
	CpioEntry init = file("init", "");
	init.mode = S_IFREG | 0755;
	init.src = "/abs/out.d/init";
	CpioEntry tar = file("/ima-init/payload.tar", "", 0600);
	tar.src = "/abs/out.d/payload.tar";
	std::string list =
	    write_gen_init_cpio_list({ tar, init, dir("ima-init"), chr("dev/console", 5, 1),
				       dir("dev"), slink("bin", "usr/bin") });
	CHECK(list == "slink /bin usr/bin 0777 0 0\n"
		      "dir /dev 0755 0 0\n"
		      "nod /dev/console 0600 0 0 c 5 1\n"
		      "dir /ima-init 0755 0 0\n"
		      "file /ima-init/payload.tar /abs/out.d/payload.tar 0600 0 0\n"
		      "file /init /abs/out.d/init 0755 0 0\n");
}

TEST_CASE("compression names")
{
	CHECK(*compression_from_name("none") == Compression::none);
	CHECK(*compression_from_name("gzip") == Compression::gzip);
	CHECK(*compression_from_name("xz") == Compression::xz);
	CHECK(*compression_from_name("zstd") == Compression::zstd);
	auto bad = compression_from_name("bzip2");
	REQUIRE_FALSE(bad);
	CHECK(bad.error().what() == "unknown compression 'bzip2' (use none, gzip, xz or zstd)");
}

TEST_CASE("compress: deterministic, kernel-readable forms, round trip")
{
	Bytes data = sample_data(300000);
	for (auto c :
	     { Compression::none, Compression::gzip, Compression::xz, Compression::zstd }) {
		CAPTURE(static_cast<int>(c));
		Bytes z = compressed(data, c);
		CHECK(compressed(data, c) == z);
		if (c == Compression::none) {
			CHECK(z == data);
			continue;
		}
		CHECK(z.size() < data.size());
		auto d = decompress_stream(z);
		REQUIRE(d);
		CHECK(d->data == data);
		CHECK(d->consumed == z.size());
	}

	Bytes gz = compressed(data, Compression::gzip);
	CHECK(gz[0] == 0x1f);
	CHECK(gz[1] == 0x8b);
	CHECK(gz[3] == 0); // FLG: no FNAME, no FCOMMENT, no FEXTRA
	CHECK(gz[4] == 0); // MTIME 0
	CHECK(gz[5] == 0);
	CHECK(gz[6] == 0);
	CHECK(gz[7] == 0);

	Bytes xz = compressed(data, Compression::xz);
	// Stream header: magic, then stream flags 0x00 <check id>; 1 is CRC32.
	CHECK(std::memcmp(xz.data(),
			  "\xfd"
			  "7zXZ\0",
			  6) == 0);
	CHECK(xz[6] == 0);
	CHECK(xz[7] == 1);
	// liblzma's own view of the stream: a single LZMA2 block decodes to the
	// same data.
	lzma_stream s = LZMA_STREAM_INIT;
	REQUIRE(lzma_stream_decoder(&s, UINT64_MAX, 0) == LZMA_OK);
	Bytes out(data.size() + 1);
	s.next_in = xz.data();
	s.avail_in = xz.size();
	s.next_out = out.data();
	s.avail_out = out.size();
	CHECK(lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END);
	CHECK(s.total_out == data.size());
	lzma_end(&s);

	Bytes zst = compressed(data, Compression::zstd);
	CHECK(std::memcmp(zst.data(), "\x28\xb5\x2f\xfd", 4) == 0);

	// Empty input still makes a valid stream.
	for (auto c : { Compression::gzip, Compression::xz, Compression::zstd }) {
		auto d = decompress_stream(compressed({}, c));
		REQUIRE(d);
		CHECK(d->data.empty());
	}
}

TEST_CASE("xz dictionary shrinks to the data")
{
	// The LZMA2 dictionary size is the filter property in the block header
	// (xz file format 3.1): small input must not ask the kernel's decoder to
	// allocate preset 6's 8 MiB.
	auto dict_of = [](const Bytes &xz) -> uint32_t {
		size_t p = 12; // after the stream header
		uint8_t flags = xz[p + 1];
		p += 2;
		auto skip_vli = [&] {
			while (xz[p++] & 0x80) {
			}
		};
		if (flags & 0x40)
			skip_vli(); // compressed size
		if (flags & 0x80)
			skip_vli();	// uncompressed size
		REQUIRE(xz[p] == 0x21); // LZMA2
		REQUIRE(xz[p + 1] == 1);
		uint8_t prop = xz[p + 2];
		return (2u | (prop & 1u)) << (prop / 2 + 11);
	};
	CHECK(dict_of(compressed(sample_data(1000), Compression::xz)) == 4096);
	CHECK(dict_of(compressed(sample_data(5000), Compression::xz)) == 8192);
	CHECK(dict_of(compressed(sample_data((1 << 20) + 1), Compression::xz)) == 2u << 20);
}

TEST_CASE("read_cpio: compressed archives")
{
	Bytes a = write_cpio_newc({ file("a", "alpha"), dir("d") }, 0);
	for (auto c :
	     { Compression::none, Compression::gzip, Compression::xz, Compression::zstd }) {
		CAPTURE(static_cast<int>(c));
		auto r = read_cpio(compressed(a, c));
		REQUIRE(r);
		REQUIRE(r->size() == 2);
		CHECK((*r)[0].name == "a");
		CHECK((*r)[0].data == bytes("alpha"));
		CHECK((*r)[1].name == "d");
	}
}

TEST_CASE("read_cpio: concatenated archives, as the kernel unpacks them")
{
	Bytes a = write_cpio_newc({ file("a", "one") }, 0);
	Bytes b = write_cpio_newc({ file("b", "two") }, 0);
	Bytes c = write_cpio_newc({ file("c", "three"), file("a", "override") }, 0);
	Bytes pad(4, 0);
	auto names = [](const std::vector<CpioEntry> &v) {
		std::string s;
		for (auto &e : v)
			s += e.name + "=" + std::string(e.data.begin(), e.data.end()) + ";";
		return s;
	};

	SUBCASE("plain archives back to back")
	{
		auto r = read_cpio(cat({ a, b, c }));
		REQUIRE(r);
		CHECK(names(*r) == "a=one;b=two;a=override;c=three;");
	}
	SUBCASE("plain, then compressed (early microcode style)")
	{
		for (auto z : { Compression::gzip, Compression::xz, Compression::zstd }) {
			auto r = read_cpio(cat({ a, compressed(b, z) }));
			REQUIRE(r);
			CHECK(names(*r) == "a=one;b=two;");
		}
	}
	SUBCASE("compressed, then plain, with NUL padding")
	{
		for (auto z : { Compression::gzip, Compression::xz, Compression::zstd }) {
			Bytes zc = compressed(a, z);
			// A plain archive must start 4-byte aligned in the outer stream.
			Bytes p(4 - zc.size() % 4 + 4, 0);
			auto r = read_cpio(cat({ zc, p, b }));
			REQUIRE(r);
			CHECK(names(*r) == "a=one;b=two;");
		}
	}
	SUBCASE("different compressions one after another")
	{
		auto r = read_cpio(
		    cat({ compressed(a, Compression::xz), compressed(b, Compression::zstd),
			  compressed(c, Compression::gzip), compressed(a, Compression::xz) }));
		REQUIRE(r);
		CHECK(names(*r) == "a=one;b=two;a=override;c=three;a=one;");
	}
	SUBCASE("one compressed stream holding several archives")
	{
		auto r = read_cpio(compressed(cat({ a, b, pad, c }), Compression::xz));
		REQUIRE(r);
		CHECK(names(*r) == "a=one;b=two;a=override;c=three;");
	}
	SUBCASE("bzip2 through libarchive, then a plain archive")
	{
		// echo b | cpio -o -H newc --reproducible | bzip2 -9 (file b: "bz\n")
		static const uint8_t bz[] = {
			0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x98, 0x67,
			0x70, 0x5c, 0x00, 0x00, 0x1d, 0x7f, 0x80, 0xc4, 0x50, 0x28, 0x00, 0x28,
			0x00, 0x7f, 0xc0, 0x3a, 0x24, 0x14, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00,
			0x08, 0x20, 0x00, 0x54, 0x44, 0x00, 0x00, 0x00, 0x68, 0x1a, 0x35, 0x4c,
			0x83, 0x20, 0xd3, 0x6a, 0x1e, 0xa3, 0x25, 0xf2, 0x28, 0x23, 0x63, 0x20,
			0x2e, 0x4c, 0x45, 0x8a, 0x22, 0x07, 0x7a, 0x52, 0xab, 0x55, 0xc4, 0x76,
			0x15, 0x47, 0x33, 0xce, 0x01, 0x9b, 0xc2, 0xd0, 0x7d, 0xde, 0x70, 0x0c,
			0x9b, 0x55, 0x9e, 0xd8, 0xb1, 0x30, 0x8f, 0xa2, 0x16, 0xe9, 0x7e, 0x2e,
			0xe4, 0x8a, 0x70, 0xa1, 0x21, 0x30, 0xce, 0xe0, 0xb8
		};
		Bytes in(std::begin(bz), std::end(bz));
		auto r = read_cpio(in);
		REQUIRE(r);
		CHECK(names(*r) == "b=bz\n;");
	}
}

TEST_CASE("read_cpio: what the kernel would refuse")
{
	Bytes a = write_cpio_newc({ file("a", "alpha") }, 0);

	SUBCASE("garbage")
	{
		CHECK(error_of(read_cpio(bytes("hello world"))) ==
		      "offset 0: invalid magic at start of compressed archive");
	}
	SUBCASE("odc archive")
	{
		Bytes odc =
		    bytes("070707000000000000000000000000000000000000000000000000000000000000000"
			  "0000000000000000");
		CHECK(error_of(read_cpio(odc)) ==
		      "offset 0: odc cpio archive: the kernel reads newc (cpio -H newc) only");
	}
	SUBCASE("plain archive not 4-byte aligned")
	{
		Bytes in = cat({ Bytes(2, 0), bytes("xx"), a });
		CHECK(error_of(read_cpio(in)) ==
		      "offset 2: invalid magic at start of compressed archive");
		CHECK(error_of(read_cpio(cat({ Bytes(1, 0), a }))) ==
		      "offset 1: invalid magic at start of compressed archive");
	}
	SUBCASE("truncated plain archive")
	{
		Bytes t(a.begin(), a.begin() + 115);
		CHECK(error_of(read_cpio(t)) == "offset 0: a: truncated data");
	}
	SUBCASE("no trailer")
	{
		Bytes t(a.begin(), a.begin() + 120);
		CHECK(error_of(read_cpio(t)) == "offset 0: truncated archive: no TRAILER!!! entry");
		CHECK(error_of(read_cpio(compressed(t, Compression::zstd))) ==
		      "offset 0+0: truncated archive: no TRAILER!!! entry");
	}
	SUBCASE("not cpio at all")
	{
		CHECK(error_of(read_cpio(bytes("0123456789"))) == "offset 0: no cpio magic");
	}
	SUBCASE("truncated compressed streams")
	{
		for (auto [z, msg] :
		     { std::pair{ Compression::gzip, "offset 0: gzip: truncated stream" },
		       { Compression::xz, "offset 0: xz: truncated stream" },
		       { Compression::zstd, "offset 0: zstd: truncated stream" } }) {
			Bytes c = compressed(a, z);
			c.resize(c.size() - 5);
			CHECK(error_of(read_cpio(c)) == msg);
		}
	}
	SUBCASE("corrupt compressed streams")
	{
		Bytes gz = compressed(a, Compression::gzip);
		gz[gz.size() - 6] ^= 0xff; // CRC32 in the trailer
		CHECK(error_of(read_cpio(gz)) == "offset 0: gzip: incorrect data check");
		Bytes xz = compressed(a, Compression::xz);
		xz[xz.size() / 2] ^= 0xff;
		CHECK(error_of(read_cpio(xz)).starts_with("offset 0: xz: corrupt stream"));
		Bytes zst = compressed(a, Compression::zstd);
		zst[zst.size() - 2] ^= 0xff; // content checksum
		CHECK(error_of(read_cpio(zst)).starts_with("offset 0: zstd: "));
	}
	SUBCASE("xz with a check the kernel cannot verify")
	{
		Bytes out(a.size() + 1024);
		size_t n = 0;
		REQUIRE(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, a.data(), a.size(),
						out.data(), &n, out.size()) == LZMA_OK);
		out.resize(n);
		CHECK(error_of(read_cpio(out)) ==
		      "offset 0: xz: integrity check type 4 is not CRC32 or none: the kernel's "
		      "decoder refuses it");
	}
	SUBCASE("junk within a compressed archive")
	{
		Bytes z = compressed(cat({ a, bytes("junk") }), Compression::gzip);
		CHECK(error_of(read_cpio(z)) == "offset 0+512: junk within compressed archive");
	}
	SUBCASE("corrupt bzip2 through libarchive")
	{
		Bytes bz = bytes("BZh91AY&SY garbage garbage garbage");
		CHECK(error_of(read_cpio(bz)).starts_with("offset 0: bzip2: "));
	}
}
