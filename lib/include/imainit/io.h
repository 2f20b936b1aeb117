// Whole-file I/O helpers used by both programs.
#pragma once

#include "imainit/result.h"

#include <cstdint>
#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

namespace imainit {

using Bytes = std::vector<uint8_t>;

// Reads a whole file; fails past max_size (guards /init against a hostile
// payload.tar the size of RAM).
Result<Bytes> read_file(const std::string &path, size_t max_size = SIZE_MAX);
Result<Bytes> read_fd(int fd, size_t max_size = SIZE_MAX);

// Writes to "<path>.tmp.XXXXXX" in the same directory, fsyncs, renames over
// path: an interrupted run never leaves a half-written output.
Status write_file_atomic(const std::string &path, std::span<const uint8_t> data, mode_t mode = 0644);

// Writes all of data, retrying on EINTR and short writes.
Status write_all(int fd, std::span<const uint8_t> data);

inline std::span<const uint8_t> as_bytes(std::string_view s)
{
	return {reinterpret_cast<const uint8_t *>(s.data()), s.size()};
}

} // namespace imainit
