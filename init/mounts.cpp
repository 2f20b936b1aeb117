#include "mounts.h"

#include "imainit/fd.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imainit::boot
{

Mount &Mount::operator=(Mount &&o) noexcept
{
	if (this != &o) {
		if (!target_.empty())
			::umount2(target_.c_str(), MNT_DETACH);
		target_ = std::move(o.target_);
		o.target_.clear();
	}
	return *this;
}

Mount::~Mount()
{
	if (!target_.empty())
		::umount2(target_.c_str(), MNT_DETACH);
}

Result<Mount> Mount::make(const std::string &source, const std::string &target,
			  const std::string &fstype, unsigned long flags, const std::string &data)
{
	if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST)
		return fail_errno("cannot create mount point " + target);
	if (::mount(source.c_str(), target.c_str(), fstype.c_str(), flags,
		    data.empty() ? nullptr : data.c_str()) != 0)
		return fail_errno("cannot mount " + fstype + " on " + target);
	return Mount(target);
}

bool is_mount_point(const std::string &path)
{
	struct stat st, parent;
	if (::stat(path.c_str(), &st) != 0)
		return false;
	if (::stat((path + "/..").c_str(), &parent) != 0)
		return false;
	return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino;
}

Status mount_kernel_filesystems()
{
	struct Fs {
		const char *type;
		const char *target;
		unsigned long flags;
		const char *data;
	};
	static constexpr Fs filesystems[] = {
		{ "devtmpfs", "/dev", MS_NOSUID, "mode=0755" },
		{ "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr },
		{ "sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr },
	};
	for (auto &fs : filesystems) {
		// CONFIG_DEVTMPFS_MOUNT does not apply to an initramfs, but
		// the kernel may still have mounted some of these.
		if (is_mount_point(fs.target))
			continue;
		auto m = Mount::make(fs.type, fs.target, fs.type, fs.flags, fs.data ? fs.data : "");
		if (!m) {
			if (m.error().err == ENODEV)
				return fail("cannot mount " + std::string(fs.type) +
						": the kernel lacks it",
					    ENODEV);
			return std::unexpected(m.error());
		}
		m->release();
	}
	if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
		return fail_errno("cannot make / private");
	return {};
}

Status mount_securityfs()
{
	const std::string target = "/sys/kernel/security";
	if (is_mount_point(target))
		return {};
	// sysfs has the mount point only when the kernel registered securityfs;
	// without it mkdir() there fails with EPERM, which explains nothing.
	struct stat st;
	if (::stat(target.c_str(), &st) != 0 && errno == ENOENT)
		return fail("the kernel has no securityfs (no " + target +
				"): it was built without CONFIG_SECURITYFS, so without IMA and "
				"EVM",
			    ENODEV);
	auto m = Mount::make("securityfs", target, "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (!m)
		return std::unexpected(m.error());
	m->release();
	return {};
}

void setup_console()
{
	bool all_open = true;
	for (int fd = 0; fd <= 2; fd++)
		if (::fcntl(fd, F_GETFD) < 0)
			all_open = false;
	if (all_open)
		return;
	int fd = ::open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fd = ::open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i <= 2; i++)
		if (::fcntl(i, F_GETFD) < 0)
			::dup2(fd, i);
	if (fd > 2)
		::close(fd);
}

} // namespace imainit::boot
