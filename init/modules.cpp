#include "modules.h"

#include "log.h"

#include "imainit/fd.h"
#include "imainit/io.h"
#include "imainit/kernel_errors.h"
#include "imainit/layout.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/module.h>
#include <optional>
#include <sys/syscall.h>
#include <unistd.h>

namespace imainit::boot
{

namespace
{

// The firmware loader's search path with the highest priority
// (firmware_class.path, drivers/base/firmware_loader/main.c): pointed at
// the payload while its modules initialise, cleared afterwards.
constexpr const char *firmware_path_param = "/sys/module/firmware_class/parameters/path";

class FirmwarePath
{
      public:
	explicit FirmwarePath(const std::string &dir)
	{
		UniqueFd fd(::open(firmware_path_param, O_WRONLY | O_CLOEXEC));
		if (!fd) {
			log_warn(std::string("firmware in the payload, but ") +
				 firmware_path_param +
				 " cannot be opened: modules will not find it");
			return;
		}
		set_ = write_all(fd.get(), as_bytes(dir)).has_value();
		if (set_)
			log_info("firmware search path set to " + dir);
	}
	~FirmwarePath()
	{
		if (!set_)
			return;
		// param_set_copystring() copies up to the NUL: one NUL byte
		// empties the path.
		UniqueFd fd(::open(firmware_path_param, O_WRONLY | O_CLOEXEC));
		static const char nul[1] = { 0 };
		if (fd)
			(void)write_all(fd.get(), std::span<const uint8_t>(
						      reinterpret_cast<const uint8_t *>(nul), 1));
	}
	FirmwarePath(const FirmwarePath &) = delete;
	FirmwarePath &operator=(const FirmwarePath &) = delete;

      private:
	bool set_ = false;
};

} // namespace

bool module_is_compressed(const std::string &path)
{
	return path.ends_with(".ko.xz") || path.ends_with(".ko.gz") || path.ends_with(".ko.zst");
}

Status load_modules(BootContext &ctx)
{
	const auto &modules = ctx.config.modules;
	if (modules.empty())
		return {};
	std::optional<FirmwarePath> fw;
	if (!ctx.config.firmware.empty())
		fw.emplace(ctx.payload_path(layout::firmware_dir));

	unsigned loaded = 0;
	for (auto &m : modules) {
		uint64_t t0 = ms_since_start();
		std::string path = ctx.payload_path(m.path);
		UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
		int err = 0;
		if (!fd) {
			err = errno;
		} else {
			int flags = module_is_compressed(m.path) ? MODULE_INIT_COMPRESSED_FILE : 0;
			if (::syscall(SYS_finit_module, fd.get(), "", flags) != 0)
				err = errno;
		}
		if (err == 0) {
			loaded++;
			log_info("module " + m.path + " loaded (" +
				 std::to_string(ms_since_start() - t0) + " ms)");
			continue;
		}
		if (err == EEXIST) {
			log_info("module " + m.path + " is already loaded");
			continue;
		}
		std::string why = fd ? explain_finit_module_error(err) : "cannot open it";
		if (m.optional) {
			log_warn("optional module " + m.path + " not loaded: " + why + ": " +
				 std::strerror(err));
			continue;
		}
		return fail("module " + m.path + ": " + why, err);
	}
	log_info(std::to_string(loaded) + " of " + std::to_string(modules.size()) +
		 " modules loaded");
	return {};
}

} // namespace imainit::boot
