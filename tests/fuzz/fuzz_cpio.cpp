// Initramfs archives: newc cpio, possibly compressed, possibly several
// concatenated, as the packer's verify reads what a bootloader would load.
#include "fuzz_check.h"
#include "imainit/cpio.h"

#include <cstddef>
#include <cstdint>

using namespace imainit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::span<const uint8_t> in(data, size);
	(void)read_cpio(in);
	if (auto d = decompress_stream(in))
		// The next archive starts where this stream ended: within the input.
		FUZZ_CHECK(d->consumed <= size);
	return 0;
}
