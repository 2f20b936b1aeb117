#include "imainit/xattr.h"

#include <cerrno>
#include <string_view>
#include <sys/xattr.h>

namespace imainit
{

Result<std::optional<Bytes>> get_xattr(int fd, const std::string &name)
{
	// The value can change between the size query and the read (ERANGE):
	// ask again rather than return a truncated value.
	for (int tries = 0; tries < 8; tries++) {
		ssize_t n = ::fgetxattr(fd, name.c_str(), nullptr, 0);
		if (n < 0) {
			if (errno == ENODATA)
				return std::nullopt;
			return fail_errno("getxattr " + name);
		}
		Bytes v(static_cast<size_t>(n));
		ssize_t m = ::fgetxattr(fd, name.c_str(), v.data(), v.size());
		if (m < 0) {
			if (errno == ERANGE)
				continue;
			if (errno == ENODATA)
				return std::nullopt;
			return fail_errno("getxattr " + name);
		}
		v.resize(static_cast<size_t>(m));
		return v;
	}
	return fail("getxattr " + name + ": value keeps changing size", ERANGE);
}

Status set_xattr(int fd, const std::string &name, std::span<const uint8_t> value)
{
	if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) != 0)
		return fail_errno("setxattr " + name);
	return {};
}

Result<Xattrs> read_evm_xattrs(int fd)
{
	// One listxattr instead of a getxattr per protected name: a file
	// usually carries one or two of the eight, and labelling a tree would
	// otherwise spend most of its syscalls on ENODATA. A first guess at the
	// size saves the size query for the usual short list.
	std::string names(256, '\0');
	for (int tries = 0;; tries++) {
		ssize_t m = ::flistxattr(fd, names.data(), names.size());
		if (m >= 0) {
			names.resize(static_cast<size_t>(m));
			break;
		}
		if (errno != ERANGE || tries == 8)
			return fail_errno("listxattr");
		ssize_t n = ::flistxattr(fd, nullptr, 0);
		if (n < 0)
			return fail_errno("listxattr");
		if (n == 0) {
			// All gone since: a zero-sized buffer would be
			// another size query, not a listing.
			names.clear();
			break;
		}
		names.resize(static_cast<size_t>(n));
	}
	auto present = [&](std::string_view want) {
		for (size_t at = 0; at < names.size();) {
			size_t end = names.find('\0', at);
			if (end == std::string::npos)
				end = names.size();
			if (std::string_view(names).substr(at, end - at) == want)
				return true;
			at = end + 1;
		}
		return false;
	};
	Xattrs out;
	for (std::string_view name : evm_protected_xattrs) {
		if (!present(name))
			continue;
		auto v = get_xattr(fd, std::string(name));
		if (!v)
			return std::unexpected(v.error());
		// Gone since the listing: the kernel will not see it either.
		if (*v)
			out.emplace_back(std::string(name), std::move(**v));
	}
	return out;
}

} // namespace imainit
