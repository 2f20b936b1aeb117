#include "imainit/cmdline.h"

#include <charconv>
#include <cstring>
#include <sys/mount.h>

namespace imainit
{

namespace
{

// The kernel's isspace() (lib/ctype.c) also counts 0xa0, Latin-1's
// no-break space, as a space.
bool kernel_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

char *skip_spaces(char *s)
{
	while (kernel_isspace(static_cast<unsigned char>(*s)))
		s++;
	return s;
}

// A line-for-line port of next_arg() in lib/cmdline.c, so that quoting
// behaves exactly as the kernel's own parser: a word may open with a
// double quote (then the whole word is quoted), the value may be quoted,
// and quotes only group spaces, they do not nest or escape.
char *next_arg(char *args, char **param, char **val)
{
	unsigned int i, equals = 0;
	bool in_quote = false, quoted = false;

	if (*args == '"') {
		args++;
		in_quote = true;
		quoted = true;
	}

	for (i = 0; args[i]; i++) {
		if (kernel_isspace(static_cast<unsigned char>(args[i])) && !in_quote)
			break;
		if (equals == 0) {
			if (args[i] == '=')
				equals = i;
		}
		if (args[i] == '"')
			in_quote = !in_quote;
	}

	*param = args;
	if (!equals) {
		*val = nullptr;
	} else {
		args[equals] = '\0';
		*val = args + equals + 1;

		if (**val == '"') {
			(*val)++;
			if (args[i - 1] == '"')
				args[i - 1] = '\0';
		}
	}
	if (quoted && i > 0 && args[i - 1] == '"')
		args[i - 1] = '\0';

	if (args[i]) {
		args[i] = '\0';
		args += i + 1;
	} else {
		args += i;
	}

	return skip_spaces(args);
}

Result<unsigned> parse_seconds(std::string_view name, std::string_view v)
{
	unsigned n = 0;
	auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n, 10);
	if (v.empty() || ec != std::errc() || end != v.data() + v.size())
		return fail(std::string(name) + "=" + std::string(v) + ": not a number of seconds");
	return n;
}

Result<unsigned> parse_uint(std::string_view v, int base)
{
	unsigned n = 0;
	auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
	if (v.empty() || ec != std::errc() || end != v.data() + v.size())
		return fail("not a number");
	return n;
}

struct MountOpt {
	std::string_view name;
	unsigned long flag;
	bool clears;
};

// util-linux libmount's linux_flags_map, minus the operations (bind,
// move, remount) that make no sense for the root mount.
constexpr MountOpt mount_opts[] = {
	{ "nosuid", MS_NOSUID, false },
	{ "suid", MS_NOSUID, true },
	{ "nodev", MS_NODEV, false },
	{ "dev", MS_NODEV, true },
	{ "noexec", MS_NOEXEC, false },
	{ "exec", MS_NOEXEC, true },
	{ "sync", MS_SYNCHRONOUS, false },
	{ "async", MS_SYNCHRONOUS, true },
	{ "dirsync", MS_DIRSYNC, false },
	{ "mand", MS_MANDLOCK, false },
	{ "nomand", MS_MANDLOCK, true },
	{ "noatime", MS_NOATIME, false },
	{ "atime", MS_NOATIME, true },
	{ "nodiratime", MS_NODIRATIME, false },
	{ "diratime", MS_NODIRATIME, true },
	{ "relatime", MS_RELATIME, false },
	{ "norelatime", MS_RELATIME, true },
	{ "strictatime", MS_STRICTATIME, false },
	{ "nostrictatime", MS_STRICTATIME, true },
	{ "lazytime", MS_LAZYTIME, false },
	{ "nolazytime", MS_LAZYTIME, true },
	{ "iversion", MS_I_VERSION, false },
	{ "noiversion", MS_I_VERSION, true },
	{ "silent", MS_SILENT, false },
	{ "loud", MS_SILENT, true },
	{ "nosymfollow", MS_NOSYMFOLLOW, false },
};

// fstab-only words mount(8) never passes to the kernel; a filesystem given
// them in its data string would refuse to mount.
bool is_userspace_only_option(std::string_view o)
{
	return o == "defaults" || o == "auto" || o == "noauto" || o == "nofail" || o == "_netdev" ||
	       o.starts_with("x-");
}

// Splits on commas outside double quotes (context="a,b" is one option,
// as libmount reads it).
std::vector<std::string_view> split_options(std::string_view s)
{
	std::vector<std::string_view> out;
	bool in_quote = false;
	size_t start = 0;
	for (size_t i = 0; i <= s.size(); i++) {
		if (i < s.size() && s[i] == '"')
			in_quote = !in_quote;
		if (i == s.size() || (s[i] == ',' && !in_quote)) {
			if (i > start)
				out.push_back(s.substr(start, i - start));
			start = i + 1;
		}
	}
	return out;
}

} // namespace

SplitCmdline split_cmdline(std::string_view line)
{
	SplitCmdline out;
	// A NUL ends the line for the kernel as well.
	std::string buf(line.substr(0, line.find('\0')));
	char *args = skip_spaces(buf.data());
	bool after_dashes = false;
	while (*args) {
		char *param, *val;
		args = next_arg(args, &param, &val);
		if (after_dashes) {
			// set_init_arg() hands init "name=value" with the
			// quotes next_arg() removed.
			std::string a = param;
			if (val)
				a += std::string("=") + val;
			out.init_args.push_back(std::move(a));
			continue;
		}
		if (!val && std::strcmp(param, "--") == 0) {
			after_dashes = true;
			continue;
		}
		// A lone pair of quotes leaves an empty word: nothing to set.
		if (!val && !*param)
			continue;
		CmdlineArg a{ param, std::nullopt };
		if (val)
			a.value = val;
		out.args.push_back(std::move(a));
	}
	return out;
}

Result<RootSpec> parse_root_spec(std::string_view s)
{
	struct Prefix {
		std::string_view text;
		RootSpec::Kind kind;
	};
	// udev's /dev/disk/by-* links do not exist without udev: look the
	// value up with libblkid instead.
	static constexpr Prefix prefixes[] = {
		{ "UUID=", RootSpec::Kind::uuid },
		{ "LABEL=", RootSpec::Kind::label },
		{ "PARTUUID=", RootSpec::Kind::partuuid },
		{ "PARTLABEL=", RootSpec::Kind::partlabel },
		{ "/dev/disk/by-uuid/", RootSpec::Kind::uuid },
		{ "/dev/disk/by-label/", RootSpec::Kind::label },
		{ "/dev/disk/by-partuuid/", RootSpec::Kind::partuuid },
		{ "/dev/disk/by-partlabel/", RootSpec::Kind::partlabel },
	};
	auto bad = [&](const std::string &why) {
		return fail("root=" + std::string(s) + ": " + why);
	};
	if (s.empty())
		return bad("empty value");
	for (auto &p : prefixes) {
		if (!s.starts_with(p.text))
			continue;
		std::string_view v = s.substr(p.text.size());
		if (v.empty())
			return bad("nothing after " + std::string(p.text));
		// The kernel's PARTUUID=<uuid>/PARTNROFF=<n> picks a sibling
		// partition; it is rare and would need the partition table.
		if (p.kind == RootSpec::Kind::partuuid && v.find('/') != std::string_view::npos)
			return bad("PARTUUID with /PARTNROFF= is not supported");
		return RootSpec{ p.kind, std::string(v), 0, 0 };
	}
	if (s.starts_with("/dev/")) {
		if (s.size() == 5)
			return bad("no device name after /dev/");
		return RootSpec{ RootSpec::Kind::path, std::string(s), 0, 0 };
	}
	if (s.starts_with("/"))
		return bad("a root device path must be below /dev/");

	// MAJ:MIN, or a hexadecimal dev_t as devt_from_devnum() in
	// init/do_mounts.c decodes it (new_decode_dev()).
	if (auto colon = s.find(':'); colon != std::string_view::npos) {
		auto maj = parse_uint(s.substr(0, colon), 10);
		auto min = parse_uint(s.substr(colon + 1), 10);
		if (!maj || !min)
			return bad("expected MAJOR:MINOR in decimal");
		return RootSpec{ RootSpec::Kind::devnum, std::string(s), *maj, *min };
	}
	if (auto hex = parse_uint(s, 16)) {
		unsigned dev = *hex;
		unsigned major = (dev & 0xfff00) >> 8;
		unsigned minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
		return RootSpec{ RootSpec::Kind::devnum, std::string(s), major, minor };
	}
	return bad("not a device: use /dev/<name>, MAJOR:MINOR, UUID=, LABEL=, PARTUUID= or "
		   "PARTLABEL=");
}

std::string describe_root_spec(const RootSpec &r)
{
	switch (r.kind) {
	case RootSpec::Kind::path:
		return r.value;
	case RootSpec::Kind::devnum:
		return std::to_string(r.major) + ":" + std::to_string(r.minor);
	case RootSpec::Kind::uuid:
		return "UUID=" + r.value;
	case RootSpec::Kind::label:
		return "LABEL=" + r.value;
	case RootSpec::Kind::partuuid:
		return "PARTUUID=" + r.value;
	case RootSpec::Kind::partlabel:
		return "PARTLABEL=" + r.value;
	}
	return r.value;
}

MountOptions parse_mount_options(std::string_view s)
{
	MountOptions m;
	for (auto o : split_options(s)) {
		if (o == "ro" || o == "rw") {
			m.read_only = (o == "ro");
			continue;
		}
		if (is_userspace_only_option(o))
			continue;
		bool known = false;
		for (auto &f : mount_opts) {
			if (o != f.name)
				continue;
			known = true;
			// Later options override earlier ones ("noatime,atime").
			if (f.clears) {
				m.set &= ~f.flag;
				m.clear |= f.flag;
			} else {
				m.clear &= ~f.flag;
				m.set |= f.flag;
			}
		}
		if (known)
			continue;
		if (!m.data.empty())
			m.data += ',';
		m.data += o;
	}
	return m;
}

bool KernelCmdline::mount_read_only() const
{
	if (rootflags.read_only)
		return *rootflags.read_only;
	return read_only.value_or(true);
}

Result<KernelCmdline> parse_cmdline(std::string_view line)
{
	KernelCmdline c;
	auto split = split_cmdline(line);
	std::optional<std::string> root, rootdelay, rootfstype;
	// nullopt: no rootwait; "rootwait" alone: an empty optional inside.
	std::optional<std::optional<std::string>> rootwait;
	for (auto &a : split.args) {
		const std::string &n = a.name;
		if (!a.value) {
			// The kernel's __setup("ro") and ("rootwait") refuse a
			// value: "ro=1" is not "ro".
			if (n == "ro")
				c.read_only = true;
			else if (n == "rw")
				c.read_only = false;
			else if (n == "rootwait")
				rootwait.emplace(std::nullopt);
			continue;
		}
		const std::string &v = *a.value;
		if (n == "root")
			root = v;
		else if (n == "rootfstype")
			rootfstype = v;
		else if (n == "rootflags")
			c.rootflags = parse_mount_options(v);
		else if (n == "rootwait")
			rootwait.emplace(v);
		else if (n == "rootdelay")
			rootdelay = v;
		else if (n == "init")
			c.init = v;
	}
	if (root) {
		auto r = parse_root_spec(*root);
		if (!r)
			return std::unexpected(r.error());
		c.root = *r;
	}
	if (rootfstype) {
		// rootfstype=ext4,xfs: the kernel tries each in turn.
		for (auto t : split_options(*rootfstype))
			c.rootfstype.emplace_back(t);
	}
	if (rootwait) {
		c.rootwait = true;
		if (*rootwait) {
			auto n = parse_seconds("rootwait", **rootwait);
			if (!n)
				return std::unexpected(n.error());
			c.rootwait_secs = *n;
		}
	}
	if (rootdelay) {
		auto n = parse_seconds("rootdelay", *rootdelay);
		if (!n)
			return std::unexpected(n.error());
		c.rootdelay = *n;
	}
	if (c.init && (c.init->empty() || c.init->front() != '/'))
		return fail("init=" + *c.init + ": not an absolute path");
	c.init_args = std::move(split.init_args);
	return c;
}

} // namespace imainit
