#include "payload_load.h"

#include "log.h"
#include "mounts.h"
#include "trust_anchor.h"

#include "imainit/digsig.h"
#include "imainit/fd.h"
#include "imainit/layout.h"
#include "imainit/payload.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/mount.h>

namespace imainit::boot
{

namespace
{

// The payload is held in memory twice at most (the buffer and the parsed
// entries) on a machine that also holds the initramfs: cap it a little
// above what the extractor accepts.
constexpr size_t max_payload_size = 640u << 20;
constexpr size_t max_sig_size = 4096;
constexpr size_t max_config_size = 64 * 1024;

Result<Bytes> read_payload_file(const char *rel, size_t cap)
{
	std::string path = std::string("/") + rel;
	auto d = read_file(path, cap);
	if (!d && d.error().err == ENOENT)
		return fail(path + " is missing from the initramfs", ENOENT);
	return d;
}

// The configuration says which further xattr names the extraction keeps,
// so it is read from the verified buffer before anything is written out.
Result<InitConfig> config_from(std::span<const uint8_t> tar)
{
	ExtractLimits any;
	any.xattr_allow = { "*" };
	auto entries = read_payload_tar(tar, any);
	if (!entries)
		return wrap(entries.error(), "payload");
	auto it = std::find_if(entries->begin(), entries->end(),
			       [](const PayloadEntry &e) { return e.path == layout::config; });
	if (it == entries->end())
		return fail(std::string("the payload has no ") + layout::config);
	if (it->kind != PayloadEntry::Kind::file)
		return fail(std::string(layout::config) + " in the payload is not a regular file");
	if (it->data.size() > max_config_size)
		return fail(std::string(layout::config) + " is larger than " +
			    std::to_string(max_config_size) + " bytes");
	std::string text(it->data.begin(), it->data.end());
	auto c = parse_config(text);
	if (!c)
		return wrap(c.error(), layout::config);
	return c;
}

} // namespace

Status load_payload(BootContext &ctx)
{
	auto anchor = load_trust_anchor();
	if (!anchor)
		return std::unexpected(anchor.error());

	auto tar = read_payload_file(layout::payload_tar, max_payload_size);
	if (!tar)
		return std::unexpected(tar.error());
	auto sig = read_payload_file(layout::payload_sig, max_sig_size);
	if (!sig)
		return std::unexpected(sig.error());
	if (auto r = verify_payload(*tar, *sig, *anchor); !r)
		return r;
	auto hdr = parse_signature_v2(*sig);
	if (!hdr)
		return std::unexpected(hdr.error());
	log_info("payload verified (" + key_algorithm(anchor->get()) + ", " +
		 std::string(hash_algo_name(hdr->algo)) + ", keyid " + hex32(hdr->keyid) + ", " +
		 std::to_string(tar->size()) + " bytes)");

	auto config = config_from(*tar);
	if (!config)
		return std::unexpected(config.error());

	// /run is a tmpfs of its own so that it can move into the real root
	// in one piece; the payload gets another one, read-only once filled.
	if (!is_mount_point(run_dir)) {
		auto run =
		    Mount::make("tmpfs", run_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
		if (!run)
			return std::unexpected(run.error());
		run->release();
	}
	auto mnt = Mount::make("tmpfs", payload_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	if (!mnt)
		return std::unexpected(mnt.error());
	UniqueFd dir(::open(payload_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!dir)
		return fail_errno(std::string("cannot open ") + payload_dir);

	ExtractLimits limits;
	for (auto &x : config->xattr_allow)
		limits.xattr_allow.push_back(x);
	if (auto r = extract_payload(*tar, dir.get(), limits); !r)
		return wrap(r.error(), std::string("extracting the payload into ") + payload_dir);
	dir.reset();
	if (::mount(nullptr, payload_dir, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		    nullptr) != 0)
		return fail_errno(std::string("cannot make ") + payload_dir + " read-only");
	mnt->release();

	ctx.config = std::move(*config);
	ctx.config_known = true;
	log_info(std::string("payload extracted into ") + payload_dir + "; failure action: " +
		 std::string(failure_action_name(ctx.config.failure_action)));
	return {};
}

} // namespace imainit::boot
