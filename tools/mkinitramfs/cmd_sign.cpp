// ima-mkinitramfs sign: label a tree in place, the way `evmctl -r ima_sign`
// and `evmctl -r sign --imasig --portable` do, but with the key parsed once
// and every file hashed, signed and labelled through one descriptor on all
// cores.
#include "commands.h"
#include "options.h"

#include "imainit/keys.h"
#include "imainit/tree.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <getopt.h>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>

using namespace imainit;

namespace
{

constexpr const char *prog = "ima-mkinitramfs sign";

void usage(FILE *out)
{
	std::fprintf(out,
		     "usage: ima-mkinitramfs sign [OPTIONS] DIR\n"
		     "\n"
		     "Labels every regular file below DIR in place with a security.ima signature\n"
		     "(digsig v2, type 0x03) and, with --evm, a portable security.evm signature\n"
		     "(type 0x05) over its EVM-protected xattrs, uid, gid and mode. Symlinks are\n"
		     "not followed; symlinks, devices, fifos and sockets are skipped. Filesystems\n"
		     "mounted below DIR are skipped unless --cross-mounts is given. Stops at the\n"
		     "first failure.\n"
		     "\n"
		     "options:\n"
		     "  -k, --key KEY          signing key, PEM (RSA or EC); required\n"
		     "  -c, --cert CERT        certificate of KEY: the keyid comes from its\n"
		     "                         subjectKeyIdentifier, and KEY must match it\n"
		     "  -a, --hash-algo ALGO   sha256 (default), sha384 or sha512\n"
		     "  -e, --evm              also write security.evm (portable signature)\n"
		     "      --evm-key KEY      key for security.evm (default: --key)\n"
		     "      --evm-cert CERT    certificate of the EVM key\n"
		     "      --pass-file FILE   passphrase of encrypted keys: first line of FILE\n"
		     "      --pass-env VAR     passphrase of encrypted keys: environment variable\n"
		     "  -j, --jobs N           worker threads (default: two per core)\n"
		     "  -x, --exclude PATTERN  skip matching files and directories (repeatable);\n"
		     "                         without '/' PATTERN matches names anywhere, with\n"
		     "                         '/' the path relative to DIR (fnmatch(3))\n"
		     "      --cross-mounts     also label filesystems mounted below DIR\n"
		     "  -n, --dry-run          hash and sign, but write no xattr\n"
		     "      --allow-debug-keys accept the published keys of keys/debug/ (tests)\n"
		     "  -q, --quiet            print nothing but errors\n"
		     "  -h, --help             show this help\n");
}

enum {
	opt_evm_key = 256,
	opt_evm_cert,
	opt_pass_file,
	opt_pass_env,
	opt_cross_mounts,
	opt_allow_debug,
};

const struct option long_options[] = {
	{ "key", required_argument, nullptr, 'k' },
	{ "cert", required_argument, nullptr, 'c' },
	{ "hash-algo", required_argument, nullptr, 'a' },
	{ "evm", no_argument, nullptr, 'e' },
	{ "evm-key", required_argument, nullptr, opt_evm_key },
	{ "evm-cert", required_argument, nullptr, opt_evm_cert },
	{ "pass-file", required_argument, nullptr, opt_pass_file },
	{ "pass-env", required_argument, nullptr, opt_pass_env },
	{ "jobs", required_argument, nullptr, 'j' },
	{ "exclude", required_argument, nullptr, 'x' },
	{ "cross-mounts", no_argument, nullptr, opt_cross_mounts },
	{ "dry-run", no_argument, nullptr, 'n' },
	{ "allow-debug-keys", no_argument, nullptr, opt_allow_debug },
	{ "quiet", no_argument, nullptr, 'q' },
	{ "help", no_argument, nullptr, 'h' },
	{ nullptr, 0, nullptr, 0 },
};

int error(const std::string &msg)
{
	return mkinitramfs::report_failure(prog, msg);
}

int usage_error(const std::string &msg)
{
	return mkinitramfs::report_usage_error(prog, msg);
}

// The keyid comes from the certificate when one is given: it is what the
// kernel indexes the key by, and a mismatch would leave every signature
// unverifiable at boot.
Result<PrivateKey> load_signing_key(const std::string &path, const std::string &cert_path,
				    const mkinitramfs::KeyOptions &ko)
{
	auto key = mkinitramfs::load_key(path, ko);
	if (!key)
		return std::unexpected(key.error());
	if (!cert_path.empty()) {
		auto cert = load_public_key(cert_path);
		if (!cert)
			return std::unexpected(cert.error());
		if (auto r = key_matches(*key, *cert); !r)
			return std::unexpected(r.error());
		key->set_keyid(cert->keyid());
	}
	return key;
}

} // namespace

int mkinitramfs::cmd_sign(int argc, char **argv)
{
	std::string key_path, cert_path, evm_key_path, evm_cert_path;
	std::string pass_file, pass_env;
	mkinitramfs::KeyOptions ko;
	HashAlgo algo = HashAlgo::sha256;
	bool evm = false, dry_run = false, quiet = false;
	unsigned jobs = 0;
	TreeWalkOptions walk;

	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "k:c:a:ej:x:nqh", long_options, nullptr)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 'c':
			cert_path = optarg;
			break;
		case 'a': {
			auto a = hash_algo_from_name(optarg);
			if (!a)
				return usage_error(a.error().what());
			// SHA-1 signatures are what the hash id table allows, not
			// what anyone should write today.
			if (*a == HashAlgo::sha1)
				return usage_error("sha1 is not accepted for new signatures");
			algo = *a;
			break;
		}
		case 'e':
			evm = true;
			break;
		case opt_evm_key:
			evm_key_path = optarg;
			break;
		case opt_evm_cert:
			evm_cert_path = optarg;
			break;
		case opt_pass_file:
			pass_file = optarg;
			break;
		case opt_pass_env:
			pass_env = optarg;
			break;
		case 'j': {
			auto n = mkinitramfs::parse_jobs(optarg);
			if (!n)
				return usage_error(n.error().what());
			jobs = *n;
			break;
		}
		case 'x':
			walk.exclude.emplace_back(optarg);
			break;
		case opt_cross_mounts:
			walk.cross_mounts = true;
			break;
		case 'n':
			dry_run = true;
			break;
		case opt_allow_debug:
			ko.allow_debug_keys = true;
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
	if (optind != argc - 1)
		return usage_error(optind >= argc ? "missing DIR" : "only one DIR, please");
	std::string dir = argv[optind];
	if (key_path.empty())
		return usage_error("--key KEY is required");
	if (auto r = mkinitramfs::set_passphrase(ko, pass_file, pass_env); !r)
		return usage_error(r.error().what());
	if (!evm && (!evm_key_path.empty() || !evm_cert_path.empty()))
		return usage_error("--evm-key and --evm-cert need --evm");
	if (!evm_cert_path.empty() && evm_key_path.empty())
		return usage_error("--evm-cert needs --evm-key (the EVM key defaults to --key, "
				   "whose certificate is --cert)");

	auto key = load_signing_key(key_path, cert_path, ko);
	if (!key)
		return error(key.error().what());
	std::optional<PrivateKey> evm_key;
	if (!evm_key_path.empty()) {
		auto k = load_signing_key(evm_key_path, evm_cert_path, ko);
		if (!k)
			return error(k.error().what());
		evm_key.emplace(std::move(*k));
	}

	UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!root)
		return error(Error{ errno, "cannot open " + dir }.what());

	auto start = std::chrono::steady_clock::now();
	auto listing = list_tree(root.get(), walk);
	if (!listing)
		return error(dir + ": " + listing.error().what());
	if (!quiet)
		for (auto &m : listing->mounts)
			std::fprintf(stderr,
				     "%s: not descending into %s/%s: another filesystem is mounted "
				     "there (--cross-mounts to label it)\n",
				     prog, dir.c_str(), m.c_str());

	TreeSignOptions opts;
	opts.ima_key = &*key;
	if (evm)
		opts.evm_key = evm_key ? &*evm_key : &*key;
	opts.algo = algo;
	opts.jobs = jobs;
	opts.dry_run = dry_run;
	opts.progress = mkinitramfs::terminal_progress(quiet);
	auto r = sign_tree(root.get(), listing->files, opts);
	mkinitramfs::end_progress(opts.progress);
	if (!r)
		return error(dir + "/" + r.error().what());

	double secs =
	    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	if (!quiet) {
		size_t n = listing->files.size();
		std::printf("%zu file%s %s (security.ima%s, %s) in %.2f s", n, n == 1 ? "" : "s",
			    dry_run ? "would be signed" : "signed", evm ? ", security.evm" : "",
			    std::string(hash_algo_name(algo)).c_str(), secs);
		if (secs > 0 && n > 0)
			std::printf(", %.0f files/s", n / secs);
		size_t sigs = r->ima_signatures + r->evm_signatures;
		size_t labels = n * (evm ? 2 : 1);
		if (sigs < labels)
			std::printf("; %zu signatures made, identical files share them", sigs);
		if (listing->skipped)
			std::printf("; %zu symlinks and special files skipped", listing->skipped);
		if (listing->excluded)
			std::printf("; %zu excluded", listing->excluded);
		std::printf("\n");
	}
	return 0;
}
