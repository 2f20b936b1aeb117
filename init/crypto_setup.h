// OpenSSL's one-time set-up for /init, before its first use.
#pragma once

#include "imainit/result.h"

namespace imainit::boot
{

Status setup_crypto();

} // namespace imainit::boot
