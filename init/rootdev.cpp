#include "rootdev.h"

#include "log.h"

#include "imainit/io.h"
#include "imainit/kernel_errors.h"

#include <algorithm>
#include <blkid/blkid.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace imainit::boot
{

namespace
{

constexpr unsigned poll_ms = 100;

struct ProbeFree {
	void operator()(blkid_struct_probe *p) const { blkid_free_probe(p); }
};
using Probe = std::unique_ptr<blkid_struct_probe, ProbeFree>;

struct DirClose {
	void operator()(DIR *d) const { closedir(d); }
};

struct Identity {
	std::string type, uuid, label, partuuid, partlabel;
};

struct BlockDev {
	std::string name; // sysfs name: vda1
	std::string node; // /dev/vda1
};

std::string read_attr(const std::string &path)
{
	auto d = read_file(path, 4096);
	if (!d)
		return {};
	std::string s(d->begin(), d->end());
	while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
		s.pop_back();
	return s;
}

// DEVNAME from a sysfs uevent file: the node's name below /dev.
std::string devname_of(const std::string &sysdir)
{
	std::string uevent = read_attr(sysdir + "/uevent");
	size_t pos = 0;
	while (pos < uevent.size()) {
		size_t nl = uevent.find('\n', pos);
		std::string line = uevent.substr(pos, nl == std::string::npos ? nl : nl - pos);
		if (line.starts_with("DEVNAME="))
			return line.substr(8);
		if (nl == std::string::npos)
			break;
		pos = nl + 1;
	}
	return {};
}

// Every block device the kernel knows of, with a non-zero size (an empty
// CD drive or an unused loop device has nothing to probe).
std::vector<BlockDev> block_devices()
{
	std::vector<BlockDev> out;
	std::unique_ptr<DIR, DirClose> dir(::opendir("/sys/class/block"));
	if (!dir)
		return out;
	while (dirent *e = ::readdir(dir.get())) {
		std::string name = e->d_name;
		if (name == "." || name == "..")
			continue;
		std::string sys = "/sys/class/block/" + name;
		if (read_attr(sys + "/size") == "0")
			continue;
		std::string dev = devname_of(sys);
		if (dev.empty())
			dev = name;
		out.push_back({ name, "/dev/" + dev });
	}
	std::sort(out.begin(), out.end(), [](auto &a, auto &b) { return a.name < b.name; });
	return out;
}

std::optional<Identity> probe(const std::string &node)
{
	Probe pr(blkid_new_probe_from_filename(node.c_str()));
	if (!pr)
		return std::nullopt;
	blkid_probe_enable_superblocks(pr.get(), 1);
	blkid_probe_set_superblocks_flags(pr.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID |
							BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr.get(), 1);
	blkid_probe_set_partitions_flags(pr.get(), BLKID_PARTS_ENTRY_DETAILS);
	// 0: found, 1: nothing, -2: more than one signature (refused by the
	// safe probe rather than guessed), -1: error.
	if (blkid_do_safeprobe(pr.get()) < 0)
		return std::nullopt;
	auto value = [&](const char *name) {
		const char *v = nullptr;
		size_t len = 0;
		if (blkid_probe_lookup_value(pr.get(), name, &v, &len) != 0 || !v)
			return std::string();
		return std::string(v);
	};
	return Identity{ value("TYPE"), value("UUID"), value("LABEL"), value("PART_ENTRY_UUID"),
			 value("PART_ENTRY_NAME") };
}

bool equal_nocase(std::string_view a, std::string_view b)
{
	return a.size() == b.size() &&
	       std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
		       return std::tolower(static_cast<unsigned char>(x)) ==
			      std::tolower(static_cast<unsigned char>(y));
	       });
}

bool matches(const RootSpec &spec, const Identity &id)
{
	switch (spec.kind) {
	case RootSpec::Kind::uuid:
		return equal_nocase(id.uuid, spec.value);
	case RootSpec::Kind::label:
		return id.label == spec.value;
	case RootSpec::Kind::partuuid:
		return equal_nocase(id.partuuid, spec.value);
	case RootSpec::Kind::partlabel:
		return id.partlabel == spec.value;
	default:
		return false;
	}
}

struct Found {
	std::string node;
	std::string type; // from the probe; empty when unknown
};

// nullopt: not there (yet). A root named by path or number is probed only
// when its type is wanted (no rootfstype=): libblkid's probe is the
// costliest part of finding it, a tenth of /init's time under emulation.
Result<std::optional<Found>> find_root(const RootSpec &spec, bool want_type)
{
	auto type_of = [&](const std::string &node) {
		if (!want_type)
			return std::string();
		auto id = probe(node);
		return id ? id->type : std::string();
	};
	if (spec.kind == RootSpec::Kind::path) {
		struct stat st;
		if (::stat(spec.value.c_str(), &st) != 0) {
			if (errno == ENOENT)
				return std::optional<Found>();
			return fail_errno("root device " + spec.value);
		}
		if (!S_ISBLK(st.st_mode))
			return fail("root device " + spec.value + " is not a block device");
		return std::optional<Found>(Found{ spec.value, type_of(spec.value) });
	}
	if (spec.kind == RootSpec::Kind::devnum) {
		std::string sys = "/sys/dev/block/" + std::to_string(spec.major) + ":" +
				  std::to_string(spec.minor);
		if (::access(sys.c_str(), F_OK) != 0)
			return std::optional<Found>();
		std::string dev = devname_of(sys);
		if (dev.empty())
			return std::optional<Found>();
		std::string node = "/dev/" + dev;
		struct stat st;
		if (::stat(node.c_str(), &st) != 0 || !S_ISBLK(st.st_mode) ||
		    st.st_rdev != makedev(spec.major, spec.minor))
			return std::optional<Found>(); // devtmpfs not there yet
		return std::optional<Found>(Found{ node, type_of(node) });
	}

	std::vector<Found> hits;
	for (auto &d : block_devices()) {
		auto id = probe(d.node);
		if (id && matches(spec, *id))
			hits.push_back(Found{ d.node, id->type });
	}
	if (hits.empty())
		return std::optional<Found>();
	if (hits.size() > 1) {
		// Two devices answering to one UUID or label: someone may have
		// plugged in a copy. Guessing could boot the wrong one.
		std::string list;
		for (auto &h : hits)
			list += (list.empty() ? "" : ", ") + h.node;
		return fail(describe_root_spec(spec) + " matches several devices (" + list +
			    "): refusing to guess");
	}
	return std::optional<Found>(hits.front());
}

// The block filesystems the kernel has (/proc/filesystems, "nodev" ones
// left out), as the kernel's own root mount tries them.
std::vector<std::string> kernel_block_filesystems()
{
	std::vector<std::string> out;
	std::string text = read_attr("/proc/filesystems");
	size_t pos = 0;
	while (pos <= text.size()) {
		size_t nl = text.find('\n', pos);
		std::string line = text.substr(pos, nl == std::string::npos ? nl : nl - pos);
		pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
		if (line.starts_with("nodev"))
			continue;
		auto first = line.find_first_not_of(" \t");
		if (first != std::string::npos)
			out.push_back(line.substr(first));
	}
	return out;
}

unsigned wait_seconds(const BootContext &ctx)
{
	// The signed configuration caps the wait; rootwait=N may shorten it.
	// Without rootwait the kernel would try once and give up; an
	// initramfs waits anyway (devices may still be probing), up to the
	// same cap.
	unsigned cap = ctx.config.root_wait;
	const auto &c = ctx.cmdline;
	if (c.rootwait && c.rootwait_secs) {
		if (*c.rootwait_secs > cap)
			log_notice("rootwait=" + std::to_string(*c.rootwait_secs) +
				   " capped at the configured root_wait of " + std::to_string(cap) +
				   " s");
		return std::min(*c.rootwait_secs, cap);
	}
	return cap;
}

std::string block_device_summary()
{
	std::string s;
	for (auto &d : block_devices())
		s += (s.empty() ? "" : " ") + d.name;
	return s.empty() ? "none" : s;
}

Status mount_found(BootContext &ctx, const Found &found)
{
	const auto &c = ctx.cmdline;
	std::vector<std::string> types = c.rootfstype;
	bool guessed = false;
	if (types.empty() && !found.type.empty()) {
		types.push_back(found.type);
		// ext2 and ext3 are served by the ext4 driver
		// (CONFIG_EXT4_USE_FOR_EXT2).
		if (found.type == "ext2" || found.type == "ext3")
			types.push_back("ext4");
	}
	if (types.empty()) {
		types = kernel_block_filesystems();
		guessed = true;
		if (types.empty())
			return fail("no filesystem type for " + found.node +
				    ": libblkid found none and /proc/filesystems lists no block "
				    "filesystem");
	}

	bool ro = c.mount_read_only();
	unsigned long flags = c.rootflags.set | (ro ? MS_RDONLY : 0);
	if (guessed || types.size() > 1)
		flags |= MS_SILENT;
	const char *data = c.rootflags.data.empty() ? nullptr : c.rootflags.data.c_str();
	if (::mkdir(new_root, 0755) != 0 && errno != EEXIST)
		return fail_errno(std::string("cannot create ") + new_root);

	std::string errors;
	for (auto &t : types) {
		int rc = ::mount(found.node.c_str(), new_root, t.c_str(), flags, data);
		if (rc != 0 && !ro && (errno == EACCES || errno == EROFS)) {
			// As the kernel's mount_block_root(): a read-only device
			// is mounted read-only rather than not at all.
			log_warn(found.node + " is read-only: mounting it read-only");
			rc = ::mount(found.node.c_str(), new_root, t.c_str(), flags | MS_RDONLY,
				     data);
			if (rc == 0)
				ro = true;
		}
		if (rc == 0) {
			ctx.root_device = found.node;
			ctx.root_fstype = t;
			log_info("root " + found.node + " mounted on " + new_root + " (" + t +
				 (ro ? ", ro" : ", rw") + (data ? ", " + c.rootflags.data : "") +
				 ")");
			return {};
		}
		int e = errno;
		if (guessed && (e == EINVAL || e == ENODEV))
			continue;
		errors += (errors.empty() ? "" : "; ") + t + ": " + explain_root_mount_error(e) +
			  " (" + std::strerror(e) + ")";
	}
	if (guessed && errors.empty())
		errors = "none of the kernel's filesystems recognised it";
	// Not probed on the way (rootfstype= was given): say what the device
	// holds now, where it helps to read the failure.
	std::string holds;
	if (found.type.empty())
		if (auto id = probe(found.node); id && !id->type.empty())
			holds = " (libblkid: " + id->type + ")";
	return fail("cannot mount " + found.node + holds + " on " + new_root + ": " + errors);
}

} // namespace

Status mount_root(BootContext &ctx)
{
	const auto &c = ctx.cmdline;
	if (!c.root)
		return fail("no root= on the kernel command line");
	const RootSpec &spec = *c.root;
	std::string what = describe_root_spec(spec);

	unsigned wait = wait_seconds(ctx);
	if (c.rootdelay) {
		unsigned d = std::min(c.rootdelay, ctx.config.root_wait);
		log_info("rootdelay: waiting " + std::to_string(d) + " s");
		::sleep(d);
	}

	uint64_t start = ms_since_start();
	uint64_t deadline = start + uint64_t(wait) * 1000;
	bool announced = false;
	std::optional<Found> found;
	for (;;) {
		auto r = find_root(spec, c.rootfstype.empty());
		if (!r)
			return std::unexpected(r.error());
		if (*r) {
			found = std::move(*r);
			break;
		}
		if (ms_since_start() >= deadline)
			return fail("root device " + what + " did not appear within " +
				    std::to_string(wait) +
				    " s (block devices: " + block_device_summary() + ")");
		if (!announced) {
			log_info("waiting up to " + std::to_string(wait) + " s for root device " +
				 what);
			announced = true;
		}
		::usleep(poll_ms * 1000);
	}
	log_info("root device " + what + " is " + found->node +
		 (found->type.empty() ? "" : " (" + found->type + ")") +
		 (announced ? ", after " + std::to_string(ms_since_start() - start) + " ms" : ""));
	return mount_found(ctx, *found);
}

} // namespace imainit::boot
