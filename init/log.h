// Boot log: every line goes to the kernel log (/dev/kmsg) with an
// "ima-init: " prefix and a syslog level, and to the console, each with the
// milliseconds since /init started:
//
//   ima-init: [  12 ms] payload verified (ECDSA P-256, keyid 0x1a2b3c4d)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imainit::boot
{

enum class Level { crit = 2, err = 3, warning = 4, notice = 5, info = 6 };

// Opens /dev/kmsg and learns the console log level; before this (and when
// /dev/kmsg cannot be opened) lines go to the console alone.
void log_open();
// Puts back the /dev/kmsg rate limit log_open() lifted, before the real
// init takes over.
void log_close();

void log(Level level, std::string_view msg);
inline void log_info(std::string_view m)
{
	log(Level::info, m);
}
inline void log_notice(std::string_view m)
{
	log(Level::notice, m);
}
inline void log_warn(std::string_view m)
{
	log(Level::warning, m);
}
inline void log_err(std::string_view m)
{
	log(Level::err, m);
}

uint64_t ms_since_start();

// "0x1a2b3c4d"
std::string hex32(uint32_t v);

} // namespace imainit::boot
