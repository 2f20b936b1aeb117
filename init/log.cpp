#include "log.h"

#include "imainit/fd.h"
#include "imainit/io.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace imainit::boot
{

namespace
{

uint64_t now_ms()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000 +
	       static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

const uint64_t start_ms = now_ms();

UniqueFd kmsg;
// Messages below this level the kernel itself prints on the console, so
// writing them there as well would show every line twice.
int console_loglevel = 0;
std::string saved_devkmsg;

constexpr size_t max_record = 976;

const char *devkmsg_sysctl = "/proc/sys/kernel/printk_devkmsg";

std::string read_small(const char *path)
{
	auto d = read_file(path, 4096);
	if (!d)
		return {};
	std::string s(d->begin(), d->end());
	while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
		s.pop_back();
	return s;
}

Status write_small(const char *path, std::string_view v)
{
	UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
	if (!fd)
		return fail_errno(std::string("cannot open ") + path);
	if (auto r = write_all(fd.get(), as_bytes(v)); !r)
		return wrap(r.error(), path);
	return {};
}

std::string devkmsg_error;

} // namespace

uint64_t ms_since_start()
{
	return now_ms() - start_ms;
}

std::string hex32(uint32_t v)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%08x", v);
	return buf;
}

void log_open()
{
	kmsg.reset(::open("/dev/kmsg", O_WRONLY | O_CLOEXEC));
	// /proc/sys/kernel/printk: "console_loglevel default_msg min default".
	std::string printk = read_small("/proc/sys/kernel/printk");
	console_loglevel = kmsg ? std::atoi(printk.c_str()) : 0;
	// Writes to /dev/kmsg are rate limited to 10 lines per 5 s per open
	// file unless printk_devkmsg is "on" (devkmsg_write()); a failing boot
	// must not lose the lines that say why. A value fixed on the command
	// line (printk.devkmsg=) refuses the change, which is fine.
	saved_devkmsg = read_small(devkmsg_sysctl);
	// devkmsg_sysctl_set_loglvl() wants the trailing newline: it
	// refuses a value whose length is not that of the word plus one.
	if (!saved_devkmsg.empty() && saved_devkmsg != "on")
		if (auto r = write_small(devkmsg_sysctl, "on\n"); !r)
			devkmsg_error = r.error().what();
	if (!devkmsg_error.empty())
		log(Level::notice, "kernel log rate limit stays (" + devkmsg_error + ")");
}

void log_close()
{
	if (!saved_devkmsg.empty() && saved_devkmsg != "on")
		(void)write_small(devkmsg_sysctl, saved_devkmsg + "\n");
}

void log(Level level, std::string_view msg)
{
	char stamp[48];
	std::snprintf(stamp, sizeof(stamp), "ima-init: [%4llu ms] ",
		      static_cast<unsigned long long>(ms_since_start()));
	std::string line = std::string(stamp) + std::string(msg);
	// One write is one kernel log record: no embedded newlines.
	for (auto &c : line)
		if (c == '\n')
			c = ' ';
	line += '\n';
	int lvl = static_cast<int>(level);
	bool truncated = false;
	if (kmsg) {
		std::string rec = "<" + std::to_string(lvl) + ">" + line;
		// devkmsg_write() refuses records longer than LOG_LINE_MAX
		// (1024 minus the prefix) with EINVAL.
		if (rec.size() > max_record) {
			rec.resize(max_record - 4);
			rec += "...\n";
			truncated = true;
		}
		(void)write_all(kmsg.get(), as_bytes(rec));
	}
	if (!kmsg || truncated || lvl >= console_loglevel) {
		// fd 1 is /dev/console (the kernel opened it for PID 1, or
		// setup_console() did).
		(void)write_all(STDOUT_FILENO, as_bytes(line));
	}
}

} // namespace imainit::boot
