// read_payload_tar on arbitrary bytes: the in-memory parse applies every
// check the extractor relies on, so it is the whole attack surface of an
// (unsigned) payload short of the file system calls.
#include "payload_reader.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	imainit::fuzz::read_payload_as_init({ data, size });
	return 0;
}
