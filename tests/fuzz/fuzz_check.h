// Property checks inside fuzz targets. A failed check is a library bug
// (two of its functions disagree), never a bad input: it aborts so that
// libFuzzer saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,      \
				     #cond);                                                       \
			std::abort();                                                              \
		}                                                                                  \
	} while (0)
