// The kernel command line as /init needs it. The kernel consumes root=,
// ro, rw, rootwait, init= ... itself (init/do_mounts.c) and does not pass
// them on to the initramfs, so /init re-reads them from /proc/cmdline.
//
// Nothing here is security-relevant: every limit and every trust decision
// comes from the signed configuration (config.h).
#pragma once

#include "imainit/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imainit
{

// One word of the command line as the kernel's next_arg() (lib/cmdline.c)
// splits it: "name" or "name=value", double quotes grouping spaces.
struct CmdlineArg {
	std::string name;
	std::optional<std::string> value; // nullopt for a bare word
	bool operator==(const CmdlineArg &) const = default;
};

struct SplitCmdline {
	std::vector<CmdlineArg> args;	    // kernel parameters
	std::vector<std::string> init_args; // words after "--": the kernel hands them to init
};

SplitCmdline split_cmdline(std::string_view line);

// root=: the kernel's own forms (/dev/<name>, MAJ:MIN, hexadecimal
// dev_t, PARTUUID=, PARTLABEL=) and the filesystem forms initramfs tools
// accept (UUID=, LABEL=, /dev/disk/by-*/<value>).
struct RootSpec {
	enum class Kind { path, devnum, uuid, label, partuuid, partlabel };
	Kind kind = Kind::path;
	std::string value; // device path, or the UUID/label to look for
	unsigned major = 0, minor = 0;
	bool operator==(const RootSpec &) const = default;
};

Result<RootSpec> parse_root_spec(std::string_view s);
// "UUID=...", "/dev/vda1", "8:1": how the spec is shown in messages.
std::string describe_root_spec(const RootSpec &r);

// rootflags= split as mount(8) does: the generic options become MS_*
// flags, everything else is passed to the filesystem as its data string.
struct MountOptions {
	unsigned long set = 0;	       // MS_* flags to set
	unsigned long clear = 0;       // MS_* flags an option turned off ("atime", "dev", ...)
	std::optional<bool> read_only; // "ro"/"rw" among the options, last one wins
	std::string data;	       // the rest, comma-separated, in order
	bool operator==(const MountOptions &) const = default;
};

MountOptions parse_mount_options(std::string_view s);

struct KernelCmdline {
	std::optional<RootSpec> root;	     // root=
	std::vector<std::string> rootfstype; // rootfstype=ext4,xfs: tried in order
	MountOptions rootflags;
	std::optional<bool> read_only;	       // ro/rw words, last one wins
	bool rootwait = false;		       // "rootwait" or "rootwait=N"
	std::optional<unsigned> rootwait_secs; // N of rootwait=N (later kernels)
	unsigned rootdelay = 0;		       // seconds
	std::optional<std::string> init;       // init=
	std::vector<std::string> init_args;    // after "--"

	// The root mount is read-only unless "rw" (or rootflags=rw) says
	// otherwise, as the kernel does (root_mountflags = MS_RDONLY).
	bool mount_read_only() const;
};

// Last occurrence of each parameter wins, as with the kernel's __setup
// handlers; unknown words are ignored. A malformed final value of one of
// the parameters above (root=sda1, rootwait=abc, rootdelay=-1) is an
// error: a root that cannot be found must fail with the reason, not with
// a timeout.
Result<KernelCmdline> parse_cmdline(std::string_view line);

} // namespace imainit
