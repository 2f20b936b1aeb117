// Step 1: the kernel filesystems /init needs, and a mount guard.
#pragma once

#include "imainit/result.h"

#include <string>

namespace imainit::boot
{

// A mount that is undone (lazily) when the guard goes out of scope, unless
// release() said it is to stay: failure paths leave nothing mounted.
class Mount
{
      public:
	Mount() = default;
	Mount(const Mount &) = delete;
	Mount &operator=(const Mount &) = delete;
	Mount(Mount &&o) noexcept : target_(std::move(o.target_)) { o.target_.clear(); }
	Mount &operator=(Mount &&o) noexcept;
	~Mount();

	// Creates target (mode 0755) when missing.
	static Result<Mount> make(const std::string &source, const std::string &target,
				  const std::string &fstype, unsigned long flags,
				  const std::string &data = {});
	const std::string &target() const { return target_; }
	void release() { target_.clear(); }

      private:
	explicit Mount(std::string target) : target_(std::move(target)) {}
	std::string target_;
};

// True when path is the root of a mount (its device differs from its
// parent's, or it is "/").
bool is_mount_point(const std::string &path);

// devtmpfs on /dev, proc, sysfs; / made private, so that mounts can later
// be moved (MS_MOVE refuses mounts below a shared one).
Status mount_kernel_filesystems();

// securityfs on /sys/kernel/security. Apart from the others because a
// kernel without it (one built without IMA) must not stop the boot before
// the signed configuration is read: the failure action is the one it names.
Status mount_securityfs();

// fds 0-2 on /dev/console. The kernel opens them for PID 1 only when the
// initramfs carries /dev/console; otherwise they are closed.
void setup_console();

} // namespace imainit::boot
