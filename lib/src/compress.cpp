// Compression of the initramfs in the forms the kernel's decompressors
// (lib/decompress_*.c) accept, and single-stream decompression with exact
// input accounting, as init/initramfs.c needs it to find the archive that
// follows a compressed one.
#include "imainit/cpio.h"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cstring>
#include <limits>
#include <lzma.h>
#include <memory>
#include <zlib.h>
#include <zstd.h>

namespace imainit
{

namespace
{

template <auto Fn> struct Free {
	template <class T> void operator()(T *p) const { Fn(p); }
};
using ZstdCCtx = std::unique_ptr<ZSTD_CCtx, Free<ZSTD_freeCCtx>>;
using ZstdDCtx = std::unique_ptr<ZSTD_DCtx, Free<ZSTD_freeDCtx>>;
using Archive = std::unique_ptr<struct archive, Free<archive_read_free>>;

// libarchive leaves the message NULL for some failures.
std::string archive_error(struct archive *a)
{
	const char *s = archive_error_string(a);
	return s ? s : "libarchive error";
}

// z_stream and lzma_stream live on the stack and are ended, not freed.
struct Deflater {
	z_stream s{};
	bool live = false;
	~Deflater()
	{
		if (live)
			deflateEnd(&s);
	}
};

struct Inflater {
	z_stream s{};
	bool live = false;
	~Inflater()
	{
		if (live)
			inflateEnd(&s);
	}
};

struct Lzma {
	lzma_stream s = LZMA_STREAM_INIT;
	~Lzma() { lzma_end(&s); }
};

// A first guess for the output buffer, which then doubles as needed.
size_t initial_output_size(size_t in)
{
	return std::clamp<size_t>(in * 4, 4096, 64 << 20);
}

// zlib counts in uInt: feed huge buffers in pieces.
constexpr size_t zlib_chunk = 1u << 30;

Result<Bytes> gzip_compress(std::span<const uint8_t> in)
{
	Deflater z;
	// windowBits 15 + 16 selects the gzip wrapper; zlib writes no name and
	// a zero mtime, so the output depends on the input alone.
	if (deflateInit2(&z.s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return fail("gzip: deflateInit2 failed");
	z.live = true;
	Bytes out(deflateBound(&z.s, static_cast<uLong>(in.size())) + 64);
	size_t in_pos = 0;
	for (;;) {
		size_t in_n = std::min(in.size() - in_pos, zlib_chunk);
		bool last = in_pos + in_n == in.size();
		z.s.next_in = const_cast<Bytef *>(in.data() + in_pos);
		z.s.avail_in = static_cast<uInt>(in_n);
		int rc;
		do {
			if (z.s.total_out == out.size())
				out.resize(out.size() * 2);
			size_t out_n = std::min(out.size() - z.s.total_out, zlib_chunk);
			z.s.next_out = out.data() + z.s.total_out;
			z.s.avail_out = static_cast<uInt>(out_n);
			rc = deflate(&z.s, last ? Z_FINISH : Z_NO_FLUSH);
			if (rc == Z_STREAM_ERROR)
				return fail("gzip: deflate failed");
		} while (z.s.avail_in != 0 || (last && rc != Z_STREAM_END));
		in_pos += in_n;
		if (last)
			break;
	}
	out.resize(z.s.total_out);
	return out;
}

Result<Bytes> xz_compress(std::span<const uint8_t> in)
{
	lzma_options_lzma opt;
	if (lzma_lzma_preset(&opt, 6))
		return fail("xz: preset 6 unavailable");
	// The kernel's decoder allocates the whole dictionary up front
	// (XZ_DYNALLOC): a dictionary larger than the data costs boot memory and
	// buys nothing, so it shrinks to the data (as the xz tool does for a file
	// of known size).
	uint32_t dict = LZMA_DICT_SIZE_MIN;
	while (dict < opt.dict_size && dict < in.size())
		dict <<= 1;
	opt.dict_size = std::min(dict, opt.dict_size);
	lzma_filter filters[] = {
		{ LZMA_FILTER_LZMA2, &opt },
		{ LZMA_VLI_UNKNOWN, nullptr },
	};
	Bytes out(lzma_stream_buffer_bound(in.size()));
	size_t out_pos = 0;
	// CRC32: without XZ_DEC_ANY_CHECK the kernel's decoder knows only
	// CRC32 and none, and refuses CRC64 or SHA-256 (xz's default).
	lzma_ret rc = lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, nullptr, in.data(),
						in.size(), out.data(), &out_pos, out.size());
	if (rc != LZMA_OK)
		return fail("xz: encoding failed (liblzma error " + std::to_string(rc) + ")");
	out.resize(out_pos);
	return out;
}

Result<Bytes> zstd_compress(std::span<const uint8_t> in)
{
	ZstdCCtx c(ZSTD_createCCtx());
	if (!c)
		return fail("zstd: out of memory", ENOMEM);
	// Level 19 is what the kernel build uses for an initramfs (cmd_zstd):
	// its window stays within what the streaming decoder allocates at boot.
	// One thread: worker threads would make the output depend on timing.
	for (auto [p, v] : { std::pair{ ZSTD_c_compressionLevel, 19 },
			     { ZSTD_c_checksumFlag, 1 },
			     { ZSTD_c_contentSizeFlag, 1 },
			     { ZSTD_c_nbWorkers, 0 } }) {
		size_t rc = ZSTD_CCtx_setParameter(c.get(), p, v);
		if (ZSTD_isError(rc))
			return fail(std::string("zstd: ") + ZSTD_getErrorName(rc));
	}
	Bytes out(ZSTD_compressBound(in.size()));
	size_t n = ZSTD_compress2(c.get(), out.data(), out.size(), in.data(), in.size());
	if (ZSTD_isError(n))
		return fail(std::string("zstd: ") + ZSTD_getErrorName(n));
	out.resize(n);
	return out;
}

Result<Decompressed> gzip_decompress(std::span<const uint8_t> in)
{
	Inflater z;
	// Gzip wrapper only, one member: the kernel's gunzip stops at the end of
	// the member and the next member is a new archive to it.
	if (inflateInit2(&z.s, 15 + 16) != Z_OK)
		return fail("gzip: inflateInit2 failed");
	z.live = true;
	Decompressed d;
	d.data.resize(initial_output_size(in.size()));
	for (;;) {
		size_t in_pos = z.s.total_in;
		z.s.next_in = const_cast<Bytef *>(in.data() + in_pos);
		z.s.avail_in = static_cast<uInt>(std::min(in.size() - in_pos, zlib_chunk));
		if (z.s.total_out == d.data.size())
			d.data.resize(d.data.size() * 2);
		z.s.next_out = d.data.data() + z.s.total_out;
		z.s.avail_out =
		    static_cast<uInt>(std::min(d.data.size() - z.s.total_out, zlib_chunk));
		int rc = inflate(&z.s, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR && z.s.total_in == in.size())
			return fail("gzip: truncated stream");
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return fail(std::string("gzip: ") + (z.s.msg ? z.s.msg : "corrupt stream"));
	}
	d.data.resize(z.s.total_out);
	d.consumed = z.s.total_in;
	return d;
}

Result<Decompressed> xz_decompress(std::span<const uint8_t> in)
{
	Lzma x;
	// No LZMA_CONCATENATED: one stream, as the kernel's unxz decodes it;
	// LZMA_TELL_ANY_CHECK lets us refuse what the kernel would refuse.
	if (lzma_stream_decoder(&x.s, UINT64_MAX, LZMA_TELL_ANY_CHECK) != LZMA_OK)
		return fail("xz: cannot set up the decoder");
	Decompressed d;
	d.data.resize(initial_output_size(in.size()));
	x.s.next_in = in.data();
	x.s.avail_in = in.size();
	for (;;) {
		if (x.s.total_out == d.data.size())
			d.data.resize(d.data.size() * 2);
		x.s.next_out = d.data.data() + x.s.total_out;
		x.s.avail_out = d.data.size() - x.s.total_out;
		lzma_ret rc = lzma_code(&x.s, LZMA_FINISH);
		if (rc == LZMA_STREAM_END)
			break;
		if (rc == LZMA_GET_CHECK) {
			lzma_check check = lzma_get_check(&x.s);
			if (check != LZMA_CHECK_NONE && check != LZMA_CHECK_CRC32)
				return fail(
				    "xz: integrity check type " + std::to_string(check) +
				    " is not CRC32 or none: the kernel's decoder refuses it");
			continue;
		}
		if (rc == LZMA_BUF_ERROR && x.s.avail_out != 0)
			return fail("xz: truncated stream");
		if (rc != LZMA_OK && rc != LZMA_BUF_ERROR)
			return fail("xz: corrupt stream (liblzma error " + std::to_string(rc) +
				    ")");
	}
	d.data.resize(x.s.total_out);
	d.consumed = x.s.total_in;
	return d;
}

Result<Decompressed> zstd_decompress(std::span<const uint8_t> in)
{
	ZstdDCtx c(ZSTD_createDCtx());
	if (!c)
		return fail("zstd: out of memory", ENOMEM);
	// The kernel accepts any window up to ZSTD_WINDOWLOG_MAX; libzstd
	// would refuse windows above 2^27 by default.
	ZSTD_bounds wlog = ZSTD_dParam_getBounds(ZSTD_d_windowLogMax);
	size_t rc = ZSTD_DCtx_setParameter(c.get(), ZSTD_d_windowLogMax, wlog.upperBound);
	if (ZSTD_isError(rc))
		return fail(std::string("zstd: ") + ZSTD_getErrorName(rc));
	Decompressed d;
	ZSTD_inBuffer ib{ in.data(), in.size(), 0 };
	Bytes chunk(ZSTD_DStreamOutSize());
	// One frame: a second frame is a new archive to the kernel.
	do {
		ZSTD_outBuffer ob{ chunk.data(), chunk.size(), 0 };
		size_t in_before = ib.pos;
		rc = ZSTD_decompressStream(c.get(), &ob, &ib);
		if (ZSTD_isError(rc))
			return fail(std::string("zstd: ") + ZSTD_getErrorName(rc));
		d.data.insert(d.data.end(), chunk.begin(), chunk.begin() + ob.pos);
		if (rc != 0 && ib.pos == ib.size && ob.pos == 0 && ib.pos == in_before)
			return fail("zstd: truncated stream");
	} while (rc != 0);
	d.consumed = ib.pos;
	return d;
}

// The other formats the kernel knows (bzip2, lzma, lzo, lz4) are rare in
// an initramfs; libarchive decodes them, but cannot say where a stream ends
// unless the next thing is not data it would take for more of the stream.
Result<Decompressed> libarchive_decompress(std::span<const uint8_t> in, const char *name)
{
	Archive a(archive_read_new());
	if (!a)
		return fail("out of memory", ENOMEM);
	archive_read_support_filter_all(a.get());
	archive_read_support_format_raw(a.get());
	if (archive_read_open_memory(a.get(), in.data(), in.size()) != ARCHIVE_OK)
		return fail(std::string(name) + ": " + archive_error(a.get()));
	struct archive_entry *e;
	if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
		return fail(std::string(name) + ": " + archive_error(a.get()));
	if (archive_filter_count(a.get()) < 2)
		return fail(std::string(name) + ": libarchive does not recognise the stream");
	Decompressed d;
	uint8_t buf[65536];
	for (;;) {
		la_ssize_t n = archive_read_data(a.get(), buf, sizeof(buf));
		if (n < 0)
			return fail(std::string(name) + ": " + archive_error(a.get()));
		if (n == 0)
			break;
		d.data.insert(d.data.end(), buf, buf + n);
	}
	d.consumed = static_cast<size_t>(archive_filter_bytes(a.get(), -1));
	return d;
}

bool starts_with(std::span<const uint8_t> data, std::initializer_list<uint8_t> magic)
{
	return data.size() >= magic.size() && std::equal(magic.begin(), magic.end(), data.begin());
}

} // namespace

Result<Compression> compression_from_name(std::string_view name)
{
	if (name == "none")
		return Compression::none;
	if (name == "gzip")
		return Compression::gzip;
	if (name == "xz")
		return Compression::xz;
	if (name == "zstd")
		return Compression::zstd;
	return fail("unknown compression '" + std::string(name) + "' (use none, gzip, xz or zstd)");
}

Result<Bytes> compress(std::span<const uint8_t> data, Compression c)
{
	switch (c) {
	case Compression::none:
		return Bytes(data.begin(), data.end());
	case Compression::gzip:
		return gzip_compress(data);
	case Compression::xz:
		return xz_compress(data);
	case Compression::zstd:
		return zstd_compress(data);
	}
	return fail("unknown compression", EINVAL);
}

Result<Decompressed> decompress_stream(std::span<const uint8_t> data)
{
	// Magic numbers as lib/decompress.c (decompress_method) matches them.
	if (starts_with(data, { 0x1f, 0x8b }))
		return gzip_decompress(data);
	if (starts_with(data, { 0xfd, '7', 'z', 'X', 'Z', 0x00 }))
		return xz_decompress(data);
	if (starts_with(data, { 0x28, 0xb5, 0x2f, 0xfd }))
		return zstd_decompress(data);
	if (starts_with(data, { 'B', 'Z', 'h' }))
		return libarchive_decompress(data, "bzip2");
	if (starts_with(data, { 0x5d, 0x00, 0x00 }))
		return libarchive_decompress(data, "lzma");
	if (starts_with(data, { 0x89, 0x4c, 0x5a }))
		return libarchive_decompress(data, "lzo");
	if (starts_with(data, { 0x02, 0x21 }))
		return libarchive_decompress(data, "lz4");
	return fail("invalid magic at start of compressed archive");
}

} // namespace imainit
