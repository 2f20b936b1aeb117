#include "switch_root.h"

#include "file_signatures.h"
#include "log.h"

#include "imainit/fd.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace imainit::boot
{

namespace
{

constexpr const char *default_init = "/sbin/init";
constexpr const char *moved_mounts[] = { "/dev", "/proc", "/sys", "/run" };

// Opens path inside the tree at rootfd as if rootfd were "/": absolute
// symlinks (/sbin/init -> /lib/systemd/systemd) resolve in the new root,
// not in the initramfs.
Result<UniqueFd> open_in_root(int rootfd, const std::string &path)
{
	open_how how{};
	how.flags = O_RDONLY | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	long fd = ::syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof(how));
	if (fd < 0)
		return fail_errno(path);
	return UniqueFd(static_cast<int>(fd));
}

struct DirClose {
	void operator()(DIR *d) const { closedir(d); }
};

// Empties the directory dirfd, staying on device dev: mount points (the
// new root among them) and everything below them are left alone. Errors
// are counted, not fatal: what cannot be freed only costs memory.
void remove_tree(int dirfd, dev_t dev, unsigned &failures)
{
	int fd = ::dup(dirfd);
	if (fd < 0) {
		failures++;
		return;
	}
	std::unique_ptr<DIR, DirClose> dir(::fdopendir(fd));
	if (!dir) {
		::close(fd);
		failures++;
		return;
	}
	while (dirent *e = ::readdir(dir.get())) {
		const char *name = e->d_name;
		if (!std::strcmp(name, ".") || !std::strcmp(name, ".."))
			continue;
		struct stat st;
		if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			failures++;
			continue;
		}
		if (st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			UniqueFd sub(
			    ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			if (!sub) {
				failures++;
				continue;
			}
			remove_tree(sub.get(), dev, failures);
			// A directory holding a mount point stays (EBUSY).
			if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != EBUSY &&
			    errno != ENOTEMPTY)
				failures++;
		} else if (::unlinkat(dirfd, name, 0) != 0) {
			failures++;
		}
	}
}

} // namespace

Status check_real_init(BootContext &ctx)
{
	std::string init = ctx.cmdline.init.value_or(default_init);
	UniqueFd root(::open(new_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!root)
		return fail_errno(std::string("cannot open ") + new_root);
	auto fd = open_in_root(root.get(), init);
	if (!fd) {
		int e = fd.error().err;
		if (e == ENOENT)
			return fail("init " + init + " does not exist in the real root (" +
					ctx.root_device + ")",
				    e);
		return wrap(fd.error(), "init");
	}
	struct stat st;
	if (::fstat(fd->get(), &st) != 0)
		return fail_errno("init " + init);
	if (!S_ISREG(st.st_mode))
		return fail("init " + init + " is not a regular file");
	if ((st.st_mode & 0111) == 0) {
		char mode[8];
		std::snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
		return fail("init " + init + " is not executable (mode " + mode + ")");
	}
	struct statvfs vfs;
	if (::fstatvfs(fd->get(), &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
		return fail("init " + init + " is on a filesystem mounted noexec");

	if (ctx.config.require_signed_init) {
		if (!ctx.ima_cert)
			return fail("require_signed_init needs ima_cert");
		if (auto r = check_ima_signature(fd->get(), "init " + init, *ctx.ima_cert); !r)
			return r;
		std::string note;
		if (ctx.evm_cert && evm_x509_enabled(ctx)) {
			if (auto r = check_evm_signature(fd->get(), "init " + init, *ctx.evm_cert,
							 &note);
			    !r)
				return r;
			if (!note.empty())
				log_notice(note);
		}
		log_info("init " + init + ": signature verified");
	}
	ctx.init_path = init;
	log_info("real init: " + init);
	return {};
}

Status switch_root(BootContext &ctx, int argc, char **argv, char **envp)
{
	// Emptying / is right only for the initramfs rootfs of PID 1.
	if (::getpid() != 1)
		return fail("not PID 1: refusing to switch root");
	struct statfs sfs;
	if (::statfs("/", &sfs) != 0)
		return fail_errno("statfs /");
	if (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC)
		return fail("/ is not the initramfs (ramfs or tmpfs): refusing to empty it");
	struct stat rootst, newst;
	if (::stat("/", &rootst) != 0 || ::stat(new_root, &newst) != 0)
		return fail_errno("stat");
	if (rootst.st_dev == newst.st_dev)
		return fail(std::string(new_root) + " is not a mount point");

	log_info("switching to the real root " + ctx.root_device + ": exec " + ctx.init_path);

	// Free the initramfs first: afterwards it is unreachable. /init
	// itself goes too; the running image stays until exec.
	{
		UniqueFd rootfd(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		if (!rootfd)
			return fail_errno("cannot open /");
		unsigned failures = 0;
		remove_tree(rootfd.get(), rootst.st_dev, failures);
		if (failures)
			log_warn("could not remove " + std::to_string(failures) +
				 " entries of the initramfs");
	}

	for (const char *m : moved_mounts) {
		std::string target = std::string(new_root) + m;
		struct stat st;
		if (::stat(target.c_str(), &st) != 0 && ::mkdir(target.c_str(), 0755) != 0) {
			// A read-only root without the directory: the real
			// init mounts its own; ours goes.
			log_warn("no " + target + " in the real root (" + std::strerror(errno) +
				 "): unmounting " + m + " instead of moving it");
			::umount2(m, MNT_DETACH);
			continue;
		}
		if (::mount(m, target.c_str(), nullptr, MS_MOVE, nullptr) != 0) {
			log_warn(std::string("cannot move ") + m + " to " + target + " (" +
				 std::strerror(errno) + "): unmounting it");
			::umount2(m, MNT_DETACH);
		}
	}

	if (::chdir(new_root) != 0)
		return fail_errno(std::string("chdir ") + new_root);
	if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0)
		return fail_errno(std::string("cannot move ") + new_root + " onto /");
	if (::chroot(".") != 0)
		return fail_errno("chroot");
	if (::chdir("/") != 0)
		return fail_errno("chdir /");

	// Our arguments are what the kernel gave init: the words of the
	// command line it did not recognise and those after "--".
	std::vector<char *> args;
	args.push_back(ctx.init_path.data());
	for (int i = 1; i < argc; i++)
		args.push_back(argv[i]);
	args.push_back(nullptr);

	log_close();
	::execve(ctx.init_path.c_str(), args.data(), envp);
	return fail_errno("exec " + ctx.init_path);
}

} // namespace imainit::boot
