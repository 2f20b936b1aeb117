// The two key syscalls, called directly: libkeyutils would add a library
// to the static /init for four thin wrappers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace imainit::boot
{

inline int32_t sys_add_key(const char *type, const char *desc, const void *payload, size_t len,
			   int32_t keyring)
{
	return static_cast<int32_t>(::syscall(SYS_add_key, type, desc, payload, len, keyring));
}

inline long sys_keyctl(int cmd, unsigned long a2 = 0, unsigned long a3 = 0, unsigned long a4 = 0,
		       unsigned long a5 = 0)
{
	return ::syscall(SYS_keyctl, cmd, a2, a3, a4, a5);
}

} // namespace imainit::boot
