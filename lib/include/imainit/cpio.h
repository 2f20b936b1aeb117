// The initramfs container: cpio "newc" as the kernel's init/initramfs.c
// reads it, and gen_init_cpio lists for CONFIG_INITRAMFS_SOURCE.
#pragma once

#include "imainit/io.h"
#include "imainit/result.h"

#include <string>
#include <sys/types.h>
#include <vector>

namespace imainit {

struct CpioEntry {
	std::string name; // without leading '/': "init", "dev/console"
	mode_t mode = 0;  // full st_mode (S_IFREG | 0755, S_IFCHR | 0600 ...)
	uint32_t uid = 0, gid = 0;
	uint32_t rdev_major = 0, rdev_minor = 0;
	Bytes data;	 // file content, or symlink target
	std::string src; // for lists: host path the content is read from
};

// Sorted by name, fixed mtime, inode numbers assigned in order, trailer.
Bytes write_cpio_newc(std::vector<CpioEntry> entries, uint32_t mtime);

// gen_init_cpio(1) list text ("dir", "file", "nod", "slink" lines); file
// entries refer to CpioEntry::src.
std::string write_gen_init_cpio_list(std::vector<CpioEntry> entries);

// Reads a (possibly compressed, possibly concatenated) newc archive.
Result<std::vector<CpioEntry>> read_cpio(std::span<const uint8_t> data);

enum class Compression { none, gzip, xz, zstd };
Result<Compression> compression_from_name(std::string_view name);
// Deterministic output, in forms the kernel's decompressors accept (xz
// with CRC32 check, gzip without name or timestamp).
Result<Bytes> compress(std::span<const uint8_t> data, Compression c);

// Decompresses the one compressed stream at the start of data, as the
// kernel's decompressors do for an initramfs, and says how many input bytes
// it used: what follows may be another archive (concatenated initramfs).
struct Decompressed {
	Bytes data;
	size_t consumed = 0;
};
Result<Decompressed> decompress_stream(std::span<const uint8_t> data);

} // namespace imainit
