// /sbin/init of the boot benchmark's root filesystem (x86_64). Its first act
// is one line in the kernel log, whose printk timestamp ends the measured
// interval (it began at the kernel's "Run /init as init process"). Then,
// outside the measurement, it reports the state the initramfs left behind,
// so that the benchmark can check that every variant did the same work: the
// EVM mode, the keys in .ima/.evm, the number of IMA policy rules and whether
// /dev was moved into the new root. Then it reboots (the test kernel cannot
// power off; QEMU runs with -no-reboot and exits).
//
// No libc, a few hundred bytes of code: the kernel appraises this file
// before it runs (the policy every variant loads wants an IMA signature on
// every executable), and hashing a static glibc binary of 700 KB under TCG
// would put tens of milliseconds that no initramfs can avoid into every
// variant's figure, hiding their differences.
//
// gcc -static -nostdlib -ffreestanding -fno-stack-protector -Os
#include <fcntl.h>
#include <linux/reboot.h>
#include <sys/syscall.h>

static long sys(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static long sys4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

static char buf[65536];
static char report[512];
static unsigned long rlen;

static unsigned long len(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static void add(const char *s, unsigned long n)
{
	while (n-- && *s && rlen < sizeof(report) - 2)
		report[rlen++] = *s++;
}

static void adds(const char *s)
{
	add(s, len(s));
}

static void addnum(long v)
{
	char d[24];
	int i = 0;

	if (v < 0) {
		adds("-");
		v = -v;
	}
	do
		d[i++] = (char)('0' + v % 10);
	while ((v /= 10) && i < 23);
	while (i--)
		add(&d[i], 1);
}

// The whole of a small file into buf, NUL-terminated; "" when unreadable.
static long slurp(const char *path)
{
	long fd = sys(SYS_open, (long)path, O_RDONLY | O_CLOEXEC, 0), n = 0, r;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	while ((r = sys(SYS_read, fd, (long)(buf + n), (long)(sizeof(buf) - 1 - n))) > 0)
		n += r;
	sys(SYS_close, fd, 0, 0);
	buf[n] = '\0';
	return n;
}

static const char *find(const char *hay, const char *needle)
{
	unsigned long n = len(needle);

	for (; *hay; hay++) {
		unsigned long i = 0;

		while (i < n && hay[i] == needle[i])
			i++;
		if (i == n)
			return hay;
	}
	return 0;
}

// "keyring   .ima: 1": the field after the name is the keyring's key count.
static void ring_keys(const char *name)
{
	const char *p = find(buf, name);
	unsigned long n = 0;

	if (!p) {
		adds("none");
		return;
	}
	p += len(name);
	while (p[n] && p[n] != '\n')
		n++;
	add(p, n);
}

__attribute__((force_align_arg_pointer)) void _start(void)
{
	static const char marker[] = "<5>bench: real init running\n";
	long fd, rules = 0;
	unsigned long n;

	// It reboots at the end: only ever as PID 1 of the benchmark's guest.
	if (sys(SYS_getpid, 0, 0, 0) != 1)
		sys(SYS_exit, 1, 0, 0);
	// Without /dev the initramfs did not move it here: the report says so.
	fd = sys(SYS_open, (long)"/dev/kmsg", O_WRONLY | O_CLOEXEC, 0);
	if (fd >= 0)
		sys(SYS_write, fd, (long)marker, sizeof(marker) - 1);

	if (sys(SYS_access, (long)"/proc/self", F_OK, 0) != 0)
		sys4(SYS_mount, (long)"proc", (long)"/proc", (long)"proc", 0);

	adds("<5>bench: state evm=");
	slurp("/sys/kernel/security/evm");
	for (n = 0; buf[n] && buf[n] != '\n'; n++)
		;
	add(buf, n);
	if (slurp("/sys/kernel/security/ima/policy") > 0)
		for (n = 0; buf[n]; n++)
			rules += buf[n] == '\n';
	slurp("/proc/keys");
	adds(" ima_keys=");
	ring_keys(" .ima: ");
	adds(" evm_keys=");
	ring_keys(" .evm: ");
	adds(" policy_rules=");
	addnum(rules);
	adds(fd >= 0 ? " dev=moved\n" : " dev=missing\n");
	if (fd >= 0)
		sys(SYS_write, fd, (long)report, (long)rlen);

	sys(SYS_sync, 0, 0, 0);
	sys4(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART, 0);
	sys(SYS_exit, 1, 0, 0);
	for (;;)
		;
}
