#include "imainit/xattr.h"

#include <cerrno>
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
	Xattrs out;
	for (std::string_view name : evm_protected_xattrs) {
		auto v = get_xattr(fd, std::string(name));
		if (!v)
			return std::unexpected(v.error());
		if (*v)
			out.emplace_back(std::string(name), std::move(**v));
	}
	return out;
}

} // namespace imainit
