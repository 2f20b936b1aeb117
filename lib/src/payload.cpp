#include "imainit/payload.h"

#include "imainit/fd.h"
#include "imainit/layout.h"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <memory>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace imainit
{

namespace
{

struct ReadFree {
	void operator()(archive *a) const { archive_read_free(a); }
};
struct WriteFree {
	void operator()(archive *a) const { archive_write_free(a); }
};
struct EntryFree {
	void operator()(archive_entry *e) const { archive_entry_free(e); }
};
struct DirClose {
	void operator()(DIR *d) const { closedir(d); }
};
using ReadArchive = std::unique_ptr<archive, ReadFree>;
using WriteArchive = std::unique_ptr<archive, WriteFree>;
using ArchiveEntry = std::unique_ptr<archive_entry, EntryFree>;
using DirPtr = std::unique_ptr<DIR, DirClose>;

constexpr int64_t tar_block = 512;
// The symlink hop limit of the kernel's path walk (MAXSYMLINKS).
constexpr int max_symlink_hops = 40;

std::string archive_message(archive *a)
{
	const char *s = archive_error_string(a);
	return s ? s : "unknown libarchive error";
}

std::string octal(unsigned v)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0%o", v);
	return buf;
}

std::vector<std::string_view> split_path(std::string_view p)
{
	std::vector<std::string_view> out;
	while (!p.empty()) {
		size_t slash = p.find('/');
		out.push_back(p.substr(0, slash));
		if (slash == std::string_view::npos)
			break;
		p.remove_prefix(slash + 1);
	}
	return out;
}

std::string join_path(const std::vector<std::string> &parts)
{
	std::string out;
	for (auto &p : parts) {
		if (!out.empty())
			out += '/';
		out += p;
	}
	return out;
}

// What write_payload_tar accepts: exactly the form read_payload_tar
// produces, so that a path has one spelling and duplicates are visible.
bool is_normalised(std::string_view p)
{
	if (p.empty() || p.front() == '/' || p.back() == '/')
		return false;
	for (auto c : split_path(p))
		if (c.empty() || c == "." || c == "..")
			return false;
	return true;
}

// Archives made by other tools spell paths "./etc/", "etc//x": those are
// normalised; what could leave the target (absolute paths, "..") is not.
Result<std::string> normalise_archive_path(std::string_view raw)
{
	if (raw.empty())
		return fail("empty path");
	if (raw.front() == '/')
		return fail("absolute path");
	std::vector<std::string> parts;
	for (auto c : split_path(raw)) {
		if (c.empty() || c == ".")
			continue;
		if (c == "..")
			return fail("path has a '..' component");
		parts.emplace_back(c);
	}
	if (parts.empty())
		return fail("path names the archive root");
	return join_path(parts);
}

std::string_view parent_of(std::string_view p)
{
	size_t slash = p.rfind('/');
	return slash == std::string_view::npos ? std::string_view{} : p.substr(0, slash);
}

std::string_view base_of(std::string_view p)
{
	size_t slash = p.rfind('/');
	return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string_view kind_name(PayloadEntry::Kind k)
{
	switch (k) {
	case PayloadEntry::Kind::file:
		return "file";
	case PayloadEntry::Kind::dir:
		return "directory";
	case PayloadEntry::Kind::symlink:
		return "symlink";
	}
	return "?";
}

Error entry_error(std::string_view path, const std::string &msg, int err = 0)
{
	return Error{ err, "entry " + std::string(path) + ": " + msg };
}

// Parents must come first, as directories: the archive then describes
// every directory it creates (owner, mode, xattrs), and nothing is ever
// created below a symlink or a file.
Status check_parent(const std::string &path, const std::map<std::string, PayloadEntry::Kind> &seen)
{
	auto parent = std::string(parent_of(path));
	if (parent.empty())
		return {};
	auto it = seen.find(parent);
	if (it == seen.end())
		return std::unexpected(entry_error(path, "parent directory " + parent +
							     " is not in the archive before it"));
	if (it->second == PayloadEntry::Kind::symlink)
		return std::unexpected(entry_error(path, "parent " + parent + " is a symlink"));
	if (it->second != PayloadEntry::Kind::dir)
		return std::unexpected(
		    entry_error(path, "parent " + parent + " is not a directory"));
	return {};
}

// Resolves a symlink's target the way the kernel's path walk would inside
// the extracted tree: relative to the link's directory, following the
// archive's other symlinks. Purely lexical checks miss "l -> s/.." with
// "s -> ." (lexically the root, really the root's parent).
Status check_symlink_target(const PayloadEntry &link,
			    const std::map<std::string, const PayloadEntry *> &by_path)
{
	auto escapes = [&] {
		return std::unexpected(entry_error(link.path, "symlink target " + link.target +
								  " resolves outside the root"));
	};
	if (link.target.front() == '/')
		return escapes();
	std::vector<std::string> at;
	for (auto c : split_path(parent_of(link.path)))
		at.emplace_back(c);
	std::deque<std::string> todo;
	for (auto c : split_path(link.target))
		todo.emplace_back(c);
	int hops = 0;
	while (!todo.empty()) {
		std::string c = std::move(todo.front());
		todo.pop_front();
		if (c.empty() || c == ".")
			continue;
		if (c == "..") {
			if (at.empty())
				return escapes();
			at.pop_back();
			continue;
		}
		at.push_back(std::move(c));
		auto it = by_path.find(join_path(at));
		if (it == by_path.end() || it->second->kind != PayloadEntry::Kind::symlink)
			continue;
		if (++hops > max_symlink_hops)
			return std::unexpected(
			    entry_error(link.path, "symlink target " + link.target +
						       ": too many levels of symlinks"));
		const std::string &next = it->second->target;
		if (next.front() == '/')
			return escapes();
		at.pop_back();
		auto parts = split_path(next);
		todo.insert(todo.begin(), parts.begin(), parts.end());
	}
	return {};
}

bool xattr_allowed(const std::vector<std::string> &allow, std::string_view name)
{
	for (std::string_view a : allow) {
		if (a == name)
			return true;
		if (a.ends_with('*') && name.starts_with(a.substr(0, a.size() - 1)))
			return true;
	}
	return false;
}

Status check_entry_for_writing(const PayloadEntry &e)
{
	using K = PayloadEntry::Kind;
	if (e.perm & ~07777u)
		return std::unexpected(
		    entry_error(e.path, "mode " + octal(e.perm) + " has bits beyond 07777"));
	if (e.kind != K::file && !e.data.empty())
		return std::unexpected(
		    entry_error(e.path, "a " + std::string(kind_name(e.kind)) + " has no data"));
	if (e.kind == K::symlink && e.target.empty())
		return std::unexpected(entry_error(e.path, "empty symlink target"));
	if (e.kind != K::symlink && !e.target.empty())
		return std::unexpected(entry_error(e.path, "only a symlink has a target"));
	if (e.kind == K::symlink && !e.xattrs.empty())
		return std::unexpected(entry_error(e.path, "xattrs on symlinks are not supported"));
	for (size_t i = 0; i < e.xattrs.size(); i++) {
		auto &name = e.xattrs[i].first;
		// libarchive's pax writer URL-encodes a name holding a byte
		// outside 33..126, '%' or '=' (SCHILY records included), while
		// its reader takes SCHILY.xattr names verbatim: such a name
		// would come back changed ("user.a b" as "user.a%20b").
		bool unsafe = std::any_of(name.begin(), name.end(), [](unsigned char c) {
			return c < 33 || c > 126 || c == '%' || c == '=';
		});
		if (name.empty() || unsafe)
			return std::unexpected(
			    entry_error(e.path, "bad xattr name '" + name + "'"));
		if (i > 0 && e.xattrs[i - 1].first == name)
			return std::unexpected(entry_error(e.path, "duplicate xattr " + name));
	}
	if (e.uid == static_cast<uid_t>(-1) || e.gid == static_cast<gid_t>(-1))
		return std::unexpected(entry_error(e.path, "uid/gid -1 cannot be restored"));
	return {};
}

la_ssize_t write_cb(archive *, void *out, const void *buf, size_t n)
{
	auto *bytes = static_cast<Bytes *>(out);
	auto *p = static_cast<const uint8_t *>(buf);
	bytes->insert(bytes->end(), p, p + n);
	return static_cast<la_ssize_t>(n);
}

} // namespace

FileMeta PayloadEntry::meta() const
{
	mode_t type = kind == Kind::dir ? S_IFDIR : kind == Kind::symlink ? S_IFLNK : S_IFREG;
	return FileMeta{ uid, gid, type | (perm & 07777) };
}

Result<Bytes> write_payload_tar(std::vector<PayloadEntry> entries, int64_t mtime)
{
	using K = PayloadEntry::Kind;
	std::sort(entries.begin(), entries.end(),
		  [](const PayloadEntry &a, const PayloadEntry &b) { return a.path < b.path; });
	std::map<std::string, K> seen;
	for (auto &e : entries) {
		if (!is_normalised(e.path))
			return fail("entry " + e.path +
				    ": path is not normalised (relative, no '.', '..' or empty "
				    "components)");
		std::sort(e.xattrs.begin(), e.xattrs.end(),
			  [](const auto &a, const auto &b) { return a.first < b.first; });
		if (auto r = check_entry_for_writing(e); !r)
			return std::unexpected(r.error());
		if (seen.contains(e.path))
			return fail("entry " + e.path + ": duplicate path");
		// A parent sorts before its children ("a" < "a/b"), so checking
		// in sorted order sees every parent first.
		if (auto r = check_parent(e.path, seen); !r)
			return std::unexpected(r.error());
		seen.emplace(e.path, e.kind);
	}

	Bytes out;
	WriteArchive a(archive_write_new());
	ArchiveEntry ae(archive_entry_new());
	if (!a || !ae)
		return fail("libarchive: out of memory", ENOMEM);
	// pax_restricted writes an extended header only for entries that need
	// one (xattrs, long names, large ids). Its extended headers are named
	// "<dir>/PaxHeader/<name>" (no pid, unlike the SUSv3 suggestion), so the
	// output is a function of the input alone: the tests compare the bytes
	// of two writes, which is why libarchive is used rather than a
	// hand-written ustar/pax encoder.
	if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
	    archive_write_set_format_option(a.get(), "pax", "xattrheader", "SCHILY") != ARCHIVE_OK)
		return fail("libarchive: cannot select pax format with SCHILY xattrs: " +
			    archive_message(a.get()));
	// No padding to a 10 KiB record: the archive ends right after its two
	// zero blocks, which is what the reader insists on finding.
	archive_write_set_bytes_in_last_block(a.get(), 1);
	if (archive_write_open(a.get(), &out, nullptr, write_cb, nullptr) != ARCHIVE_OK)
		return fail("libarchive: " + archive_message(a.get()));

	for (auto &e : entries) {
		archive_entry_clear(ae.get());
		archive_entry_copy_pathname(ae.get(), e.path.c_str());
		archive_entry_set_filetype(ae.get(), e.kind == K::dir	    ? AE_IFDIR
						     : e.kind == K::symlink ? AE_IFLNK
									    : AE_IFREG);
		archive_entry_set_perm(ae.get(), e.perm);
		archive_entry_set_uid(ae.get(), e.uid);
		archive_entry_set_gid(ae.get(), e.gid);
		archive_entry_set_mtime(ae.get(), mtime, 0);
		archive_entry_set_size(
		    ae.get(), e.kind == K::file ? static_cast<la_int64_t>(e.data.size()) : 0);
		if (e.kind == K::symlink)
			archive_entry_copy_symlink(ae.get(), e.target.c_str());
		for (auto &[name, value] : e.xattrs)
			archive_entry_xattr_add_entry(ae.get(), name.c_str(), value.data(),
						      value.size());
		// ARCHIVE_WARN is a name that is not valid in the locale's charset:
		// libarchive then records it as raw bytes (hdrcharset=BINARY),
		// which is exactly what Linux file names are.
		if (archive_write_header(a.get(), ae.get()) < ARCHIVE_WARN)
			return fail("entry " + e.path + ": " + archive_message(a.get()));
		if (e.kind != K::file || e.data.empty())
			continue;
		la_ssize_t n = archive_write_data(a.get(), e.data.data(), e.data.size());
		if (n < 0 || static_cast<size_t>(n) != e.data.size())
			return fail("entry " + e.path + ": " + archive_message(a.get()));
	}
	if (archive_write_close(a.get()) != ARCHIVE_OK)
		return fail("libarchive: " + archive_message(a.get()));
	return out;
}

Result<std::vector<PayloadEntry>> read_payload_tar(std::span<const uint8_t> tar,
						   const ExtractLimits &limits)
{
	using K = PayloadEntry::Kind;
	ReadArchive a(archive_read_new());
	if (!a)
		return fail("libarchive: out of memory", ENOMEM);
	// The tar family only (ustar, pax, GNU), and no decompression filter:
	// the payload is never compressed, so anything else is not a payload.
	archive_read_support_format_tar(a.get());
	if (archive_read_open_memory(a.get(), tar.data(), tar.size()) != ARCHIVE_OK)
		return fail("not a tar archive: " + archive_message(a.get()));

	std::vector<PayloadEntry> out;
	std::map<std::string, K> seen;
	uint64_t total = 0;
	// Where the last entry (header, data, padding) ended: the end-of-archive
	// marker must start right there.
	int64_t entry_end = 0;
	for (;;) {
		archive_entry *ae = nullptr;
		int r = archive_read_next_header(a.get(), &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			// ARCHIVE_WARN too: a malformed pax record or an unconvertible
			// name is a damaged payload, not something to carry on past.
			const char *name = ae ? archive_entry_pathname(ae) : nullptr;
			if (name && r == ARCHIVE_WARN)
				return fail("entry " + std::string(name) + ": " +
					    archive_message(a.get()));
			return fail("malformed tar header at offset " + std::to_string(entry_end) +
				    (out.empty() ? std::string()
						 : " (after entry " + out.back().path + ")") +
				    ": " + archive_message(a.get()));
		}
		const char *raw = archive_entry_pathname(ae);
		std::string shown = raw && *raw ? raw : "at offset " + std::to_string(entry_end);
		if (out.size() >= limits.max_entries)
			return std::unexpected(
			    entry_error(shown, "more than " + std::to_string(limits.max_entries) +
						   " entries in the archive"));
		auto path = normalise_archive_path(raw ? raw : "");
		if (!path)
			return std::unexpected(entry_error(shown, path.error().msg));

		PayloadEntry e;
		e.path = std::move(*path);
		if (const char *hl = archive_entry_hardlink(ae))
			return std::unexpected(entry_error(
			    e.path,
			    std::string("hard links are not supported (link to ") + hl + ")"));
		switch (archive_entry_filetype(ae)) {
		case AE_IFREG:
			e.kind = K::file;
			break;
		case AE_IFDIR:
			e.kind = K::dir;
			break;
		case AE_IFLNK:
			e.kind = K::symlink;
			break;
		case AE_IFCHR:
		case AE_IFBLK:
			return std::unexpected(entry_error(e.path, "device nodes are not allowed"));
		case AE_IFIFO:
			return std::unexpected(entry_error(e.path, "FIFOs are not allowed"));
		case AE_IFSOCK:
			return std::unexpected(entry_error(e.path, "sockets are not allowed"));
		default:
			return std::unexpected(entry_error(
			    e.path, "unknown file type " + octal(archive_entry_filetype(ae))));
		}
		e.perm = archive_entry_perm(ae) & 07777;
		if (e.kind != K::symlink && (e.perm & 07000) && !limits.allow_setid)
			return std::unexpected(
			    entry_error(e.path, "setuid/setgid/sticky bits (mode " + octal(e.perm) +
						    ") are not allowed"));
		la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
		// (uid_t)-1 means "leave unchanged" to chown.
		if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
			return std::unexpected(
			    entry_error(e.path, "uid/gid " + std::to_string(uid) + "/" +
						    std::to_string(gid) + " out of range"));
		e.uid = static_cast<uid_t>(uid);
		e.gid = static_cast<gid_t>(gid);
		// Things the extractor would not restore are refused rather than
		// silently dropped.
		if (archive_entry_sparse_count(ae) > 0)
			return std::unexpected(
			    entry_error(e.path, "sparse files are not supported"));
		if (archive_entry_acl_count(ae, ARCHIVE_ENTRY_ACL_TYPE_POSIX1E |
						    ARCHIVE_ENTRY_ACL_TYPE_NFS4) > 0)
			return std::unexpected(entry_error(e.path, "ACLs are not supported"));
		unsigned long fset = 0, fclear = 0;
		archive_entry_fflags(ae, &fset, &fclear);
		if (fset || fclear)
			return std::unexpected(entry_error(e.path, "file flags are not supported"));

		if (seen.contains(e.path))
			return std::unexpected(entry_error(e.path, "duplicate path"));
		if (auto c = check_parent(e.path, seen); !c)
			return std::unexpected(c.error());

		la_int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
		// libarchive itself refuses negative sizes.
		if (size < 0 || static_cast<uint64_t>(size) > limits.max_entry_size)
			return std::unexpected(entry_error(
			    e.path, "size " + std::to_string(size) + " exceeds the limit of " +
					std::to_string(limits.max_entry_size) + " bytes"));
		if (e.kind != K::file && size != 0)
			return std::unexpected(entry_error(
			    e.path, "a " + std::string(kind_name(e.kind)) + " with data"));
		total += static_cast<uint64_t>(size);

		if (e.kind == K::symlink) {
			const char *t = archive_entry_symlink(ae);
			if (!t || !*t)
				return std::unexpected(entry_error(e.path, "empty symlink target"));
			e.target = t;
		}

		int nx = archive_entry_xattr_reset(ae);
		if (nx > 0 && e.kind == K::symlink)
			return std::unexpected(
			    entry_error(e.path, "xattrs on symlinks are not supported"));
		const char *xname;
		const void *xvalue;
		size_t xsize;
		while (archive_entry_xattr_next(ae, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
			std::string name = xname ? xname : "";
			if (!xattr_allowed(limits.xattr_allow, name))
				return std::unexpected(
				    entry_error(e.path, "xattr " + name + " is not allowed"));
			if (xsize > limits.max_xattr_size)
				return std::unexpected(entry_error(
				    e.path, "xattr " + name + " value is " + std::to_string(xsize) +
						" bytes (limit " +
						std::to_string(limits.max_xattr_size) + ")"));
			// Both a SCHILY and a LIBARCHIVE record for one name land here
			// twice: which one would win is not ours to guess.
			for (auto &x : e.xattrs)
				if (x.first == name)
					return std::unexpected(
					    entry_error(e.path, "duplicate xattr " + name));
			auto *p = static_cast<const uint8_t *>(xvalue);
			e.xattrs.emplace_back(name, Bytes(p, p + xsize));
			total += xsize;
		}
		if (total > limits.max_total_size)
			return std::unexpected(entry_error(
			    e.path, "archive content exceeds the limit of " +
					std::to_string(limits.max_total_size) + " bytes"));

		if (e.kind == K::file && size > 0) {
			// The header's size is only a claim: never allocate more than
			// the archive could hold.
			if (static_cast<uint64_t>(size) > tar.size())
				return std::unexpected(
				    entry_error(e.path, "size " + std::to_string(size) +
							    " is larger than the archive"));
			e.data.resize(static_cast<size_t>(size));
			size_t got = 0;
			while (got < e.data.size()) {
				la_ssize_t n = archive_read_data(a.get(), e.data.data() + got,
								 e.data.size() - got);
				if (n <= 0)
					return std::unexpected(
					    entry_error(e.path, n < 0 ? archive_message(a.get())
								      : "truncated data"));
				got += static_cast<size_t>(n);
			}
		}
		// Consumes the rest of the entry, padding included, so that the
		// position below is where the next header starts.
		if (archive_read_data_skip(a.get()) != ARCHIVE_OK)
			return std::unexpected(entry_error(e.path, archive_message(a.get())));
		entry_end = archive_filter_bytes(a.get(), -1);
		seen.emplace(e.path, e.kind);
		out.push_back(std::move(e));
	}

	// libarchive ends at the first zero block and consumes a second one only
	// when it is zero as well; it also takes a clean EOF between entries as
	// the end. Neither a missing marker nor bytes after it may pass: data
	// beyond what the reader interprets is data the signature covers for no
	// reason, and a truncated payload must not look complete.
	int64_t end = archive_filter_bytes(a.get(), -1);
	for (size_t i = static_cast<size_t>(entry_end); i < tar.size(); i++)
		if (tar[i] != 0)
			return fail("garbage at offset " + std::to_string(i) +
				    " after the end of the archive" +
				    (out.empty() ? std::string()
						 : " (last entry " + out.back().path + ")"));
	if (end < entry_end + 2 * tar_block)
		return fail("missing end-of-archive marker (two zero blocks)" +
			    (out.empty() ? std::string() : " after entry " + out.back().path));

	std::map<std::string, const PayloadEntry *> by_path;
	for (auto &e : out)
		by_path.emplace(e.path, &e);
	for (auto &e : out)
		if (e.kind == K::symlink)
			if (auto r = check_symlink_target(e, by_path); !r)
				return std::unexpected(r.error());
	return out;
}

namespace
{

// Opens path (relative to root) as a directory, one component at a time
// and never following a symlink. openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS) would give the same guarantee in one call, but paths
// here are already normalised (no "..") and the walk works on every kernel
// and in every seccomp profile, with a single code path to test.
Result<UniqueFd> open_dir_beneath(int root, std::string_view path)
{
	UniqueFd cur(::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!cur)
		return fail_errno("cannot open target directory");
	if (path.empty())
		return cur;
	for (auto c : split_path(path)) {
		std::string comp(c);
		UniqueFd next(::openat(cur.get(), comp.c_str(),
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		if (!next)
			return fail_errno("cannot open directory " + std::string(path));
		cur = std::move(next);
	}
	return cur;
}

Status check_empty(int dirfd)
{
	UniqueFd fd(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!fd)
		return fail_errno("cannot open target directory");
	DirPtr dir(::fdopendir(fd.get()));
	if (!dir)
		return fail_errno("cannot read target directory");
	fd.release();
	errno = 0;
	while (struct dirent *d = ::readdir(dir.get())) {
		std::string_view n = d->d_name;
		if (n != "." && n != "..")
			return fail("target directory is not empty (it holds " + std::string(n) +
				    ")");
	}
	if (errno != 0)
		return fail_errno("cannot read target directory");
	return {};
}

// security.evm goes last: once a portable signature is in place, an active
// EVM refuses changes to what it covers (evm_protect_xattr with
// INTEGRITY_PASS_IMMUTABLE), so security.ima, owner and mode must be final
// by then.
Status set_xattrs(int fd, const PayloadEntry &e)
{
	std::vector<const std::pair<std::string, Bytes> *> order;
	for (auto &x : e.xattrs)
		if (x.first != "security.evm")
			order.push_back(&x);
	for (auto &x : e.xattrs)
		if (x.first == "security.evm")
			order.push_back(&x);
	for (auto *x : order)
		if (::fsetxattr(fd, x->first.c_str(), x->second.data(), x->second.size(), 0) != 0)
			return std::unexpected(
			    entry_error(e.path, "cannot set xattr " + x->first, errno));
	return {};
}

// Owner before mode (chown clears setuid/setgid), both after the data and
// before the xattrs. This order is right whether or not EVM is active:
// when /init extracts, no EVM key is loaded yet and tmpfs is exempt from
// EVM's "no xattrs yet" check, but `unpack` on a running system may meet an
// initialised EVM.
Status finish(int fd, const PayloadEntry &e)
{
	if (::fchown(fd, e.uid, e.gid) != 0)
		return std::unexpected(entry_error(e.path,
						   "cannot set owner " + std::to_string(e.uid) +
						       ":" + std::to_string(e.gid),
						   errno));
	if (::fchmod(fd, e.perm) != 0)
		return std::unexpected(
		    entry_error(e.path, "cannot set mode " + octal(e.perm), errno));
	return set_xattrs(fd, e);
}

Status create_entry(int dirfd, const PayloadEntry &e)
{
	using K = PayloadEntry::Kind;
	auto parent = open_dir_beneath(dirfd, parent_of(e.path));
	if (!parent)
		return std::unexpected(entry_error(e.path, parent.error().msg, parent.error().err));
	std::string name(base_of(e.path));
	switch (e.kind) {
	case K::dir:
		// Owner-only until the end: the final mode (0555, say) is applied
		// once the directory's contents exist.
		if (::mkdirat(parent->get(), name.c_str(), 0700) != 0)
			return std::unexpected(
			    entry_error(e.path, "cannot create directory", errno));
		return {};
	case K::symlink:
		if (::symlinkat(e.target.c_str(), parent->get(), name.c_str()) != 0)
			return std::unexpected(entry_error(e.path, "cannot create symlink", errno));
		if (::fchownat(parent->get(), name.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) != 0)
			return std::unexpected(entry_error(e.path, "cannot set owner", errno));
		return {};
	case K::file: {
		UniqueFd fd(::openat(parent->get(), name.c_str(),
				     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
		if (!fd)
			return std::unexpected(entry_error(e.path, "cannot create file", errno));
		if (auto r = write_all(fd.get(), e.data); !r)
			return std::unexpected(entry_error(e.path, r.error().msg, r.error().err));
		return finish(fd.get(), e);
	}
	}
	return {};
}

} // namespace

Status extract_payload(std::span<const uint8_t> tar, int dirfd, const ExtractLimits &limits)
{
	auto entries = read_payload_tar(tar, limits);
	if (!entries)
		return std::unexpected(entries.error());
	if (auto r = check_empty(dirfd); !r)
		return r;
	for (auto &e : *entries)
		if (auto r = create_entry(dirfd, e); !r)
			return r;
	// Directories last, deepest first (children follow their parents in the
	// archive): a read-only directory is finished only when nothing more is
	// created in it.
	for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
		if (it->kind != PayloadEntry::Kind::dir)
			continue;
		auto fd = open_dir_beneath(dirfd, it->path);
		if (!fd)
			return std::unexpected(
			    entry_error(it->path, fd.error().msg, fd.error().err));
		if (auto r = finish(fd->get(), *it); !r)
			return r;
	}
	return {};
}

Result<Bytes> sign_payload(const PrivateKey &key, std::span<const uint8_t> tar)
{
	auto algo = hash_algo_from_name(layout::payload_hash);
	if (!algo)
		return std::unexpected(algo.error());
	auto sig = ima_sign_buffer(key, *algo, tar);
	if (!sig)
		return wrap(sig.error(), "signing payload");
	return sig;
}

Status verify_payload(std::span<const uint8_t> tar, std::span<const uint8_t> sig,
		      const PublicKey &trust)
{
	auto algo = hash_algo_from_name(layout::payload_hash);
	if (!algo)
		return std::unexpected(algo.error());
	auto parsed = parse_signature_v2(sig);
	if (!parsed)
		return wrap(parsed.error(), "payload signature");
	if (parsed->type != SigType::ima_digsig)
		return fail("payload signature: type " +
			    std::to_string(static_cast<int>(parsed->type)) +
			    " is not an IMA digital signature (3)");
	// One algorithm, fixed at build time: a signature over a weaker digest
	// of the same bytes is not accepted in its place.
	if (parsed->algo != *algo)
		return fail("payload signature: made with " +
			    std::string(hash_algo_name(parsed->algo)) + ", expected " +
			    layout::payload_hash);
	const PublicKey *keys[] = { &trust };
	if (auto r = ima_verify_buffer(sig, tar, keys); !r)
		return wrap(r.error(), "payload signature");
	return {};
}

} // namespace imainit
