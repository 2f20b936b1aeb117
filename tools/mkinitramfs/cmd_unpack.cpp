// ima-mkinitramfs unpack: extract a payload with the very code /init runs,
// so that what a developer inspects is what the machine would see, and an
// archive /init would refuse is refused here with the same message.
#include "commands.h"

#include "imainit/config.h"
#include "imainit/cpio.h"
#include "imainit/fd.h"
#include "imainit/layout.h"
#include "imainit/payload.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <getopt.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace imainit;

namespace
{

constexpr const char *prog = "ima-mkinitramfs unpack";
// Twice the default payload limit: room for the payload and the rest of
// an initramfs around it.
constexpr size_t max_archive_size = size_t(1) << 30;

void usage(FILE *out)
{
	std::fprintf(
	    out,
	    "usage: ima-mkinitramfs unpack [OPTIONS] ARCHIVE DIR\n"
	    "\n"
	    "Extracts a payload into DIR (created if missing; it must be empty) with the\n"
	    "extractor /init uses: the same checks, the same xattrs restored, nothing\n"
	    "written unless the whole payload passes. ARCHIVE is a bare payload.tar or an\n"
	    "initramfs (cpio newc, compressed or not) holding %s.\n"
	    "xattrs beyond security.ima/security.evm are restored when the payload's\n"
	    "%s allows them (xattr_allow), as /init does.\n"
	    "Owners and security.* xattrs need root (or CAP_CHOWN/CAP_SYS_ADMIN).\n"
	    "\n"
	    "options:\n"
	    "  -t, --trust CERT  check the payload signature against CERT first and refuse\n"
	    "                    to unpack if it does not verify\n"
	    "  -s, --sig FILE    signature of a bare payload (default: PAYLOAD.tar.sig,\n"
	    "                    then payload.sig beside it); an initramfs\n"
	    "                    carries %s\n"
	    "  -q, --quiet       print nothing but errors\n"
	    "  -h, --help        show this help\n",
	    layout::payload_tar, layout::config, layout::payload_sig);
}

const struct option long_options[] = {
	{ "trust", required_argument, nullptr, 't' },
	{ "sig", required_argument, nullptr, 's' },
	{ "quiet", no_argument, nullptr, 'q' },
	{ "help", no_argument, nullptr, 'h' },
	{ nullptr, 0, nullptr, 0 },
};

int usage_error(const std::string &msg)
{
	std::fprintf(stderr, "%s: %s\n(see ima-mkinitramfs unpack --help)\n", prog, msg.c_str());
	return 2;
}

int error(const std::string &msg)
{
	std::fprintf(stderr, "%s: %s\n", prog, msg.c_str());
	return 1;
}

bool is_tar(std::span<const uint8_t> data)
{
	return data.size() >= 512 && std::memcmp(data.data() + 257, "ustar", 5) == 0;
}

std::optional<std::string> find_sig_file(const std::string &tar_path)
{
	size_t slash = tar_path.rfind('/');
	std::string dir = slash == std::string::npos ? "" : tar_path.substr(0, slash + 1);
	for (auto c : { tar_path + ".sig", dir + "payload.sig" })
		if (::access(c.c_str(), F_OK) == 0)
			return c;
	return std::nullopt;
}

// The payload's own configuration decides which further xattr names /init
// restores, so the payload is read once accepting every name to find it.
// The allow-list then applied is the one /init would apply.
Result<ExtractLimits> limits_for(std::span<const uint8_t> tar)
{
	ExtractLimits any;
	any.xattr_allow = { "*" };
	auto entries = read_payload_tar(tar, any);
	if (!entries)
		return std::unexpected(entries.error());
	ExtractLimits limits;
	for (auto &e : *entries) {
		if (e.path != layout::config || e.kind != PayloadEntry::Kind::file)
			continue;
		std::string_view text(reinterpret_cast<const char *>(e.data.data()), e.data.size());
		auto cfg = parse_config(text);
		if (!cfg)
			return wrap(cfg.error(), layout::config);
		for (auto &x : cfg->xattr_allow)
			limits.xattr_allow.push_back(x);
	}
	return limits;
}

// DIR itself is the one path taken from the user: it may be a symlink to
// where they want the tree; below it nothing is followed.
Result<UniqueFd> open_target(const std::string &dir)
{
	if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
		return fail_errno("cannot create " + dir);
	UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!fd)
		return fail_errno("cannot open " + dir);
	return fd;
}

} // namespace

int mkinitramfs::cmd_unpack(int argc, char **argv)
{
	std::string trust_path, sig_path;
	bool quiet = false;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "t:s:qh", long_options, nullptr)) != -1) {
		switch (c) {
		case 't':
			trust_path = optarg;
			break;
		case 's':
			sig_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("bad option");
		}
	}
	if (argc - optind != 2)
		return usage_error("expected ARCHIVE and DIR");
	std::string archive_path = argv[optind], dir = argv[optind + 1];
	if (!sig_path.empty() && trust_path.empty())
		return usage_error("--sig needs --trust");

	auto data = read_file(archive_path, max_archive_size);
	if (!data)
		return error(data.error().what());

	Bytes tar, sig;
	std::string tar_name = archive_path, sig_name;
	if (is_tar(*data)) {
		tar = std::move(*data);
		if (!trust_path.empty()) {
			if (sig_path.empty()) {
				auto found = find_sig_file(archive_path);
				if (!found)
					return error(
					    archive_path +
					    ": no signature beside the payload (looked for " +
					    archive_path +
					    ".sig and payload.sig); give --sig FILE");
				sig_path = *found;
			}
			auto s = read_file(sig_path, 64 << 10);
			if (!s)
				return error(s.error().what());
			sig = std::move(*s);
			sig_name = sig_path;
		}
	} else {
		if (!sig_path.empty())
			return usage_error(
			    "--sig is for a bare payload.tar; an initramfs carries " +
			    std::string(layout::payload_sig));
		auto entries = read_cpio(*data);
		if (!entries)
			return error(archive_path + ": neither a tar payload nor an initramfs: " +
				     entries.error().what());
		const CpioEntry *t = nullptr, *s = nullptr;
		for (auto &e : *entries) {
			if (e.name == layout::payload_tar && S_ISREG(e.mode))
				t = &e;
			if (e.name == layout::payload_sig && S_ISREG(e.mode))
				s = &e;
		}
		if (!t)
			return error(archive_path + ": no " + layout::payload_tar);
		if (!s && !trust_path.empty())
			return error(archive_path + ": no " + layout::payload_sig);
		tar = t->data;
		tar_name = archive_path + ":" + layout::payload_tar;
		if (s) {
			sig = s->data;
			sig_name = archive_path + ":" + layout::payload_sig;
		}
	}

	// As in /init: the signature over the bytes in memory, then extraction
	// from those same bytes.
	if (!trust_path.empty()) {
		auto trust = load_public_key(trust_path);
		if (!trust)
			return error(trust.error().what());
		if (auto r = verify_payload(tar, sig, *trust); !r)
			return error(sig_name + ": " + r.error().what() + "; not unpacking");
		if (!quiet)
			std::printf("%s: payload signature ok\n", sig_name.c_str());
	} else if (!quiet) {
		std::fprintf(stderr, "%s: warning: payload signature not checked (no --trust)\n",
			     prog);
	}

	auto limits = limits_for(tar);
	if (!limits)
		return error(tar_name + ": " + limits.error().what());
	auto fd = open_target(dir);
	if (!fd)
		return error(fd.error().what());
	if (auto r = extract_payload(tar, fd->get(), *limits); !r)
		return error(tar_name + ": " + r.error().what());
	if (!quiet)
		std::printf("%s: unpacked into %s\n", tar_name.c_str(), dir.c_str());
	return 0;
}
