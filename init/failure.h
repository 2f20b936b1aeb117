// Step 11: any failure ends the boot. One line says which step failed and
// why, on the console and in the kernel log, then the failure action of the
// signed configuration runs (halt before the configuration is known). No
// shell, no carrying on into an unappraised root; only a debug build
// (IMAINIT_DEBUG_BUILD) tries a rescue shell first.
#pragma once

#include "imainit/config.h"
#include "imainit/result.h"

#include <string_view>

namespace imainit::boot
{

[[noreturn]] void fail_boot(std::string_view step, const Error &e, FailureAction action);

} // namespace imainit::boot
