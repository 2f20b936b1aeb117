// cpio "newc" (070701) as init/initramfs.c parses it: a 110-byte ASCII
// header of 8-digit hex fields, the NUL-terminated name padded so that
// header + name end on a 4-byte boundary, the data padded to 4 bytes, and a
// "TRAILER!!!" entry. Concatenated archives, each optionally compressed, are
// read the way unpack_to_rootfs() walks them.
#include "imainit/cpio.h"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sys/stat.h>

namespace imainit
{

namespace
{

constexpr size_t newc_header_size = 110;
constexpr const char *trailer_name = "TRAILER!!!";

struct ArchiveFree {
	void operator()(struct archive *a) const { archive_read_free(a); }
};
using Archive = std::unique_ptr<struct archive, ArchiveFree>;

// libarchive leaves the message NULL for some failures.
std::string archive_error(struct archive *a, const char *fallback = "libarchive error")
{
	const char *s = archive_error_string(a);
	return s ? s : fallback;
}

void pad4(Bytes &out)
{
	while (out.size() % 4)
		out.push_back(0);
}

void put_hex(Bytes &out, uint32_t v)
{
	char buf[9];
	std::snprintf(buf, sizeof(buf), "%08X", v);
	out.insert(out.end(), buf, buf + 8);
}

void put_entry(Bytes &out, uint32_t ino, uint32_t mode, uint32_t uid, uint32_t gid, uint32_t nlink,
	       uint32_t mtime, std::span<const uint8_t> data, uint32_t rmaj, uint32_t rmin,
	       std::string_view name)
{
	static constexpr char magic[] = "070701";
	out.insert(out.end(), magic, magic + 6);
	// ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor
	// rdevminor namesize check
	for (uint32_t v : { ino, mode, uid, gid, nlink, mtime, static_cast<uint32_t>(data.size()),
			    0u, 0u, rmaj, rmin, static_cast<uint32_t>(name.size() + 1), 0u })
		put_hex(out, v);
	out.insert(out.end(), name.begin(), name.end());
	out.push_back(0);
	pad4(out);
	out.insert(out.end(), data.begin(), data.end());
	pad4(out);
}

std::string_view strip_slash(std::string_view name)
{
	while (!name.empty() && name.front() == '/')
		name.remove_prefix(1);
	return name;
}

void sort_entries(std::vector<CpioEntry> &entries)
{
	for (auto &e : entries)
		e.name = std::string(strip_slash(e.name));
	// A name sorts right before every name it is a prefix of, so a
	// directory always precedes its contents, as the kernel needs (it does
	// not create missing parents).
	std::stable_sort(entries.begin(), entries.end(),
			 [](const CpioEntry &a, const CpioEntry &b) { return a.name < b.name; });
}

// Walks the headers of one newc archive before libarchive reads it, for
// two things libarchive does differently from the kernel:
// - it reads a name, and a symlink's body, into one buffer of the size the
//   header claims before it finds the bytes missing: a 110-byte header
//   claiming a 4 GiB name costs a 4 GiB allocation. The kernel skips an
//   entry whose name or symlink target is longer than PATH_MAX (do_header()
//   in init/initramfs.c); such an entry is refused here.
// - where a header should start but does not, it searches onwards for
//   something that looks like one (and allocates whatever that one claims);
//   the kernel stops with "no cpio magic".
// Anything else (truncation, a name without its NUL) is left to libarchive.
Status check_newc_headers(std::span<const uint8_t> data, const std::string &where)
{
	constexpr uint32_t path_max = 4096;
	auto *text = reinterpret_cast<const char *>(data.data());
	auto field = [&](size_t pos, int i) {
		uint32_t v = 0;
		std::from_chars(text + pos + 6 + 8 * i, text + pos + 14 + 8 * i, v, 16);
		return v;
	};
	size_t pos = 0;
	while (data.size() - pos >= newc_header_size) {
		auto at = where + ": entry at +" + std::to_string(pos);
		bool magic = std::memcmp(text + pos, "070701", 6) == 0 ||
			     std::memcmp(text + pos, "070702", 6) == 0;
		bool hex = std::all_of(text + pos + 6, text + pos + newc_header_size, [](char c) {
			return std::isxdigit(static_cast<unsigned char>(c));
		});
		if (!magic || !hex)
			return fail(at + ": no newc header where the previous entry ends");
		uint32_t mode = field(pos, 1), size = field(pos, 6), namesize = field(pos, 11);
		if (namesize > path_max)
			return fail(at + ": name of " + std::to_string(namesize) +
				    " bytes is longer than PATH_MAX");
		if (S_ISLNK(mode) && size > path_max)
			return fail(at + ": symlink target of " + std::to_string(size) +
				    " bytes is longer than PATH_MAX");
		size_t name_end = pos + newc_header_size + namesize;
		if (name_end > data.size())
			return {};
		std::string_view name(text + pos + newc_header_size, namesize);
		if (name == std::string_view(trailer_name, std::strlen(trailer_name) + 1))
			return {};
		pos = ((name_end + 3) & ~size_t(3)) + ((size_t(size) + 3) & ~size_t(3));
		if (pos > data.size())
			return {};
	}
	return {};
}

// One uncompressed newc archive at the start of data, up to and including
// its trailer; *consumed says where it ended.
// where: "offset N", or "offset N+M" inside a compressed stream at N.
Status read_newc(std::span<const uint8_t> data, const std::string &where,
		 std::vector<CpioEntry> &out, size_t *consumed)
{
	auto at = [&](const std::string &what) { return where + ": " + what; };
	if (data.size() < 6 || (std::memcmp(data.data(), "070701", 6) != 0 &&
				std::memcmp(data.data(), "070702", 6) != 0)) {
		// Old binary and odc archives look like cpio to libarchive, but
		// the kernel refuses them.
		if (data.size() >= 6 && std::memcmp(data.data(), "070707", 6) == 0)
			return fail(
			    at("odc cpio archive: the kernel reads newc (cpio -H newc) only"));
		return fail(at("no cpio magic"));
	}
	if (auto r = check_newc_headers(data, where); !r)
		return r;
	Archive a(archive_read_new());
	if (!a)
		return fail("out of memory", ENOMEM);
	archive_read_support_filter_all(a.get());
	archive_read_support_format_cpio(a.get());
	if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK)
		return fail(at(archive_error(a.get())));
	for (;;) {
		struct archive_entry *ae;
		int rc = archive_read_next_header(a.get(), &ae);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc != ARCHIVE_OK) {
			// libarchive sets no message when the data ends where the
			// next header should be.
			return fail(
			    at(archive_error(a.get(), "truncated archive: no TRAILER!!! entry")));
		}
		CpioEntry e;
		e.name = archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "";
		e.mode = archive_entry_mode(ae);
		e.uid = static_cast<uint32_t>(archive_entry_uid(ae));
		e.gid = static_cast<uint32_t>(archive_entry_gid(ae));
		e.rdev_major = archive_entry_rdevmajor(ae);
		e.rdev_minor = archive_entry_rdevminor(ae);
		if (S_ISLNK(e.mode)) {
			// libarchive consumes a symlink's body as its target.
			const char *t = archive_entry_symlink(ae);
			std::string_view target = t ? t : "";
			e.data.assign(target.begin(), target.end());
		} else {
			uint8_t buf[65536];
			for (;;) {
				la_ssize_t n = archive_read_data(a.get(), buf, sizeof(buf));
				if (n < 0)
					return fail(at(e.name + ": " +
						       archive_error(a.get(), "truncated data")));
				if (n == 0)
					break;
				e.data.insert(e.data.end(), buf, buf + n);
			}
		}
		out.push_back(std::move(e));
	}
	// Nothing is compressed here, so the innermost filter is the memory
	// itself and its position is the end of the trailer's name.
	*consumed = static_cast<size_t>(archive_filter_bytes(a.get(), 0));
	if (*consumed == 0 || *consumed > data.size())
		return fail(at("cannot locate the end of the archive"));
	return {};
}

// A sequence of uncompressed archives, separated by NUL padding: what a
// compressed stream holds (flush_buffer() in init/initramfs.c allows
// nothing else there).
Status read_newc_sequence(std::span<const uint8_t> data, size_t offset, std::vector<CpioEntry> &out)
{
	size_t pos = 0;
	while (pos < data.size()) {
		if (data[pos] == 0) {
			pos++;
			continue;
		}
		if (data[pos] != '0' || (pos & 3))
			return fail("offset " + std::to_string(offset) + "+" + std::to_string(pos) +
				    ": junk within compressed archive");
		size_t n = 0;
		auto where = "offset " + std::to_string(offset) + "+" + std::to_string(pos);
		if (auto r = read_newc(data.subspan(pos), where, out, &n); !r)
			return r;
		pos += n;
	}
	return {};
}

} // namespace

Bytes write_cpio_newc(std::vector<CpioEntry> entries, uint32_t mtime)
{
	sort_entries(entries);
	Bytes out;
	uint32_t ino = 1;
	for (auto &e : entries) {
		std::span<const uint8_t> data;
		uint32_t nlink = 1;
		if (S_ISDIR(e.mode))
			nlink = 2;
		else if (S_ISREG(e.mode) || S_ISLNK(e.mode))
			data = e.data;
		uint32_t rmaj = 0, rmin = 0;
		if (S_ISCHR(e.mode) || S_ISBLK(e.mode)) {
			rmaj = e.rdev_major;
			rmin = e.rdev_minor;
		}
		// Every regular file has its own inode number and nlink 1: the
		// kernel treats nlink >= 2 files with equal inode numbers as
		// hard links (maybe_link()).
		put_entry(out, ino++, e.mode, e.uid, e.gid, nlink, mtime, data, rmaj, rmin, e.name);
	}
	put_entry(out, 0, 0, 0, 0, 1, 0, {}, 0, 0, trailer_name);
	// gen_init_cpio and cpio(1) pad to a 512-byte block; the kernel skips
	// NUL padding after a trailer.
	while (out.size() % 512)
		out.push_back(0);
	return out;
}

// gen_init_cpio splits lines at blanks and expands ${VAR} in source paths:
// names and sources must have neither (the caller checks what it takes from
// the user).
std::string write_gen_init_cpio_list(std::vector<CpioEntry> entries)
{
	sort_entries(entries);
	std::string out;
	char perm[16];
	for (auto &e : entries) {
		std::snprintf(perm, sizeof(perm), "%04o", static_cast<unsigned>(e.mode & 07777));
		std::string ids =
		    std::string(perm) + " " + std::to_string(e.uid) + " " + std::to_string(e.gid);
		std::string name = "/" + e.name;
		switch (e.mode & S_IFMT) {
		case S_IFDIR:
			out += "dir " + name + " " + ids + "\n";
			break;
		case S_IFREG:
			out += "file " + name + " " + e.src + " " + ids + "\n";
			break;
		case S_IFLNK:
			out += "slink " + name + " " + std::string(e.data.begin(), e.data.end()) +
			       " " + ids + "\n";
			break;
		case S_IFCHR:
		case S_IFBLK:
			out += "nod " + name + " " + ids + (S_ISCHR(e.mode) ? " c " : " b ") +
			       std::to_string(e.rdev_major) + " " + std::to_string(e.rdev_minor) +
			       "\n";
			break;
		case S_IFIFO:
			out += "pipe " + name + " " + ids + "\n";
			break;
		case S_IFSOCK:
			out += "sock " + name + " " + ids + "\n";
			break;
		}
	}
	return out;
}

Result<std::vector<CpioEntry>> read_cpio(std::span<const uint8_t> data)
{
	std::vector<CpioEntry> out;
	size_t pos = 0;
	while (pos < data.size()) {
		// unpack_to_rootfs(): NULs between archives are padding; an
		// uncompressed archive starts with '0' on a 4-byte boundary;
		// anything else must be a compressed stream.
		if (data[pos] == 0) {
			pos++;
			continue;
		}
		auto rest = data.subspan(pos);
		if (data[pos] == '0' && !(pos & 3)) {
			size_t n = 0;
			if (auto r = read_newc(rest, "offset " + std::to_string(pos), out, &n); !r)
				return std::unexpected(r.error());
			pos += n;
			continue;
		}
		auto d = decompress_stream(rest);
		if (!d)
			return wrap(d.error(), "offset " + std::to_string(pos));
		if (d->consumed == 0)
			return fail("offset " + std::to_string(pos) + ": empty compressed stream");
		if (auto r = read_newc_sequence(d->data, pos, out); !r)
			return std::unexpected(r.error());
		pos += d->consumed;
	}
	return out;
}

} // namespace imainit
