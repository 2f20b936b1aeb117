// Extended attributes of files on the host (labelling, verifying a tree).
#pragma once

#include "imainit/evm.h"
#include "imainit/result.h"

#include <optional>
#include <string>

namespace imainit {

// The value of one xattr, std::nullopt when the file has none (ENODATA).
Result<std::optional<Bytes>> get_xattr(int fd, const std::string &name);
Status set_xattr(int fd, const std::string &name, std::span<const uint8_t> value);
// The EVM-protected xattrs the file carries, in kernel order.
Result<Xattrs> read_evm_xattrs(int fd);

} // namespace imainit
