#include "kernel_cmdline.h"

#include "log.h"

#include "imainit/io.h"

namespace imainit::boot
{

Result<KernelCmdline> read_kernel_cmdline()
{
	// The command line is at most COMMAND_LINE_SIZE (2048 on x86, a
	// few KiB elsewhere) plus what bootconfig appends.
	auto raw = read_file("/proc/cmdline", 64 * 1024);
	if (!raw)
		return std::unexpected(raw.error());
	std::string line(raw->begin(), raw->end());
	auto c = parse_cmdline(line);
	if (!c)
		return wrap(c.error(), "kernel command line");

	std::string s = "root=";
	s += c->root ? describe_root_spec(*c->root) : "(none)";
	if (!c->rootfstype.empty()) {
		s += " rootfstype=";
		for (size_t i = 0; i < c->rootfstype.size(); i++)
			s += (i ? "," : "") + c->rootfstype[i];
	}
	if (c->rootflags.set || !c->rootflags.data.empty() || c->rootflags.read_only)
		s += " rootflags";
	s += c->mount_read_only() ? " ro" : " rw";
	if (c->rootwait)
		s += c->rootwait_secs ? " rootwait=" + std::to_string(*c->rootwait_secs)
				      : " rootwait";
	if (c->rootdelay)
		s += " rootdelay=" + std::to_string(c->rootdelay);
	if (c->init)
		s += " init=" + *c->init;
	log_info("command line: " + s);
	return c;
}

} // namespace imainit::boot
