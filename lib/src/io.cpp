#include "imainit/io.h"

#include "imainit/fd.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imainit {

Result<Bytes> read_fd(int fd, size_t max_size)
{
	Bytes out;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if (static_cast<uint64_t>(st.st_size) > max_size)
			return fail("file is larger than " + std::to_string(max_size) + " bytes", EFBIG);
		out.reserve(static_cast<size_t>(st.st_size));
	}
	uint8_t buf[65536];
	for (;;) {
		ssize_t n = ::read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("read");
		}
		if (n == 0)
			break;
		if (out.size() + static_cast<size_t>(n) > max_size)
			return fail("file is larger than " + std::to_string(max_size) + " bytes", EFBIG);
		out.insert(out.end(), buf, buf + n);
	}
	return out;
}

Result<Bytes> read_file(const std::string &path, size_t max_size)
{
	UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return fail_errno("cannot open " + path);
	auto data = read_fd(fd.get(), max_size);
	if (!data)
		return wrap(data.error(), path);
	return data;
}

Status write_all(int fd, std::span<const uint8_t> data)
{
	while (!data.empty()) {
		ssize_t n = ::write(fd, data.data(), data.size());
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("write");
		}
		data = data.subspan(static_cast<size_t>(n));
	}
	return {};
}

Status write_file_atomic(const std::string &path, std::span<const uint8_t> data, mode_t mode)
{
	std::string tmp = path + ".tmp.XXXXXX";
	UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
	if (!fd)
		return fail_errno("cannot create " + tmp);
	auto cleanup = [&](const Error &e) {
		::unlink(tmp.c_str());
		return wrap(e, "writing " + path);
	};
	if (auto r = write_all(fd.get(), data); !r)
		return cleanup(r.error());
	if (::fchmod(fd.get(), mode) != 0 || ::fsync(fd.get()) != 0)
		return cleanup(Error{errno, "fchmod/fsync"});
	if (::close(fd.release()) != 0)
		return cleanup(Error{errno, "close"});
	if (::rename(tmp.c_str(), path.c_str()) != 0)
		return cleanup(Error{errno, "rename to " + path});
	return {};
}

} // namespace imainit
