// Step 8: kernel modules from the payload, in the order the configuration
// lists them (dependencies first, as the packer recorded), after the keys
// and before the root device is looked for. finit_module() on the
// extracted file, never init_module() on a buffer: only a file has a
// security.ima the kernel can appraise under MODULE_CHECK.
#pragma once

#include "context.h"

namespace imainit::boot
{

Status load_modules(BootContext &ctx);

// MODULE_INIT_COMPRESSED_FILE for .ko.xz/.ko.gz/.ko.zst: the kernel
// decompresses (CONFIG_MODULE_DECOMPRESS).
bool module_is_compressed(const std::string &path);

} // namespace imainit::boot
