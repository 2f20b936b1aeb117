// ima-mkinitramfs verify: check what /init and the kernel will check, before
// booting: an initramfs (or a bare payload.tar and its signature), or a tree
// labelled by `sign` or by evmctl.
#include "commands.h"
#include "options.h"

#include "imainit/config.h"
#include "imainit/cpio.h"
#include "imainit/layout.h"
#include "imainit/payload.h"
#include "imainit/policy.h"
#include "imainit/tree.h"

#include <cstdio>
#include <cstdlib>
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

constexpr const char *prog = "ima-mkinitramfs verify";

void usage(FILE *out)
{
	std::fprintf(
	    out, "usage: ima-mkinitramfs verify [OPTIONS] ARCHIVE|PAYLOAD.tar|DIR\n"
		 "\n"
		 "ARCHIVE is an initramfs (cpio newc, compressed or not); PAYLOAD.tar a bare\n"
		 "payload with its signature beside it. Checks the payload signature, lists the\n"
		 "payload with its xattrs, checks every file's security.ima (and security.evm)\n"
		 "against the payload's certificates, and lints its IMA policy.\n"
		 "DIR is a labelled tree: every regular file's security.ima (and with --evm its\n"
		 "security.evm) is checked against the --cert certificates, on all cores.\n"
		 "Exits 1 on any failure, naming the file and the reason.\n"
		 "\n"
		 "archive options:\n"
		 "  -t, --trust CERT       payload trust anchor (default: the archive's own\n"
		 "                         ima-init/trust.der, which proves integrity only)\n"
		 "  -s, --sig FILE         signature of a bare payload (default: PAYLOAD.tar.sig,\n"
		 "                         then payload.sig beside it)\n"
		 "      --ima-cert CERT    check security.ima against CERT (repeatable; default:\n"
		 "                         the payload's IMA certificate)\n"
		 "      --evm-cert CERT    check security.evm against CERT (repeatable; default:\n"
		 "                         the payload's EVM certificate)\n"
		 "      --no-lint          do not lint the payload's IMA policy\n"
		 "tree options:\n"
		 "  -c, --cert CERT        verification certificate (repeatable; required)\n"
		 "  -e, --evm              also check security.evm (portable signatures)\n"
		 "  -j, --jobs N           worker threads (default: two per core)\n"
		 "  -x, --exclude PATTERN  skip matching files and directories (repeatable)\n"
		 "      --cross-mounts     also check filesystems mounted below DIR\n"
		 "common options:\n"
		 "  -q, --quiet            print nothing but failures and warnings\n"
		 "  -h, --help             show this help\n");
}

enum {
	opt_ima_cert = 256,
	opt_evm_cert,
	opt_no_lint,
	opt_cross_mounts,
};

const struct option long_options[] = {
	{ "trust", required_argument, nullptr, 't' },
	{ "sig", required_argument, nullptr, 's' },
	{ "ima-cert", required_argument, nullptr, opt_ima_cert },
	{ "evm-cert", required_argument, nullptr, opt_evm_cert },
	{ "no-lint", no_argument, nullptr, opt_no_lint },
	{ "cert", required_argument, nullptr, 'c' },
	{ "evm", no_argument, nullptr, 'e' },
	{ "jobs", required_argument, nullptr, 'j' },
	{ "exclude", required_argument, nullptr, 'x' },
	{ "cross-mounts", no_argument, nullptr, opt_cross_mounts },
	{ "quiet", no_argument, nullptr, 'q' },
	{ "help", no_argument, nullptr, 'h' },
	{ nullptr, 0, nullptr, 0 },
};

struct Options {
	std::string trust, sig;
	std::vector<std::string> ima_certs, evm_certs, certs;
	bool lint = true, evm = false, quiet = false;
	unsigned jobs = 0;
	TreeWalkOptions walk;
};

int usage_error(const std::string &msg)
{
	return mkinitramfs::report_usage_error(prog, msg);
}

// Failures are printed as they are found and counted; the exit status
// reflects whether any was found.
struct Report {
	size_t failures = 0;
	bool quiet = false;

	void fail(const std::string &msg)
	{
		failures++;
		// The listing goes to stdout: keep the two in order on a terminal.
		std::fflush(stdout);
		std::fprintf(stderr, "%s: %s\n", prog, msg.c_str());
	}
	void warn(const std::string &msg, const char *level = "warning")
	{
		std::fflush(stdout);
		std::fprintf(stderr, "%s: %s: %s\n", prog, level, msg.c_str());
	}
};

std::string hex32(uint32_t v)
{
	char buf[12];
	std::snprintf(buf, sizeof(buf), "%08x", v);
	return buf;
}

// ---- trees ----

int verify_dir(const std::string &dir, const Options &o)
{
	if (o.certs.empty())
		return usage_error("verifying a tree needs --cert CERT");
	if (!o.trust.empty() || !o.sig.empty() || !o.ima_certs.empty() || !o.evm_certs.empty())
		return usage_error("--trust, --sig, --ima-cert and --evm-cert are for archives; "
				   "use --cert for a tree");
	std::vector<PublicKey> keys;
	for (auto &c : o.certs) {
		auto k = load_public_key(c);
		if (!k) {
			std::fprintf(stderr, "%s: %s\n", prog, k.error().what().c_str());
			return 1;
		}
		keys.push_back(std::move(*k));
	}

	UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (!root) {
		std::fprintf(stderr, "%s: %s\n", prog,
			     Error{ errno, "cannot open " + dir }.what().c_str());
		return 1;
	}
	auto listing = list_tree(root.get(), o.walk);
	if (!listing) {
		std::fprintf(stderr, "%s: %s: %s\n", prog, dir.c_str(),
			     listing.error().what().c_str());
		return 1;
	}
	if (!o.quiet)
		for (auto &m : listing->mounts)
			std::fprintf(stderr,
				     "%s: not descending into %s/%s: another filesystem is mounted "
				     "there (--cross-mounts to check it)\n",
				     prog, dir.c_str(), m.c_str());

	TreeVerifyOptions opts;
	for (auto &k : keys)
		opts.keys.push_back(&k);
	opts.evm = o.evm;
	opts.jobs = o.jobs;
	opts.progress = mkinitramfs::terminal_progress(o.quiet);
	auto failures = verify_tree(root.get(), listing->files, opts);
	mkinitramfs::end_progress(opts.progress);
	for (auto &f : failures)
		std::fprintf(stderr, "%s: %s/%s: %s\n", prog, dir.c_str(), f.path.c_str(),
			     f.reason.c_str());
	size_t n = listing->files.size();
	if (!o.quiet || !failures.empty())
		std::printf("%zu file%s checked (security.ima%s): %zu ok, %zu failed\n", n,
			    n == 1 ? "" : "s", o.evm ? ", security.evm" : "", n - failures.size(),
			    failures.size());
	return failures.empty() ? 0 : 1;
}

// ---- archives ----

bool is_tar(std::span<const uint8_t> data)
{
	return data.size() >= 512 && std::memcmp(data.data() + 257, "ustar", 5) == 0;
}

// ls -l style: "-rwsr-xr-x", "crw-------".
std::string mode_string(mode_t mode)
{
	std::string s = S_ISDIR(mode)	 ? "d"
			: S_ISLNK(mode)	 ? "l"
			: S_ISCHR(mode)	 ? "c"
			: S_ISBLK(mode)	 ? "b"
			: S_ISFIFO(mode) ? "p"
			: S_ISSOCK(mode) ? "s"
					 : "-";
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		s += (mode & (0400 >> i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		s[3] = (mode & 0100) ? 's' : 'S';
	if (mode & S_ISGID)
		s[6] = (mode & 010) ? 's' : 'S';
	if (mode & S_ISVTX)
		s[9] = (mode & 01) ? 't' : 'T';
	return s;
}

// "v2 sha256 keyid 8d69f415, 72-byte signature" for signatures, a short hex
// dump for anything else.
std::string describe_xattr(const std::string &name, const Bytes &value)
{
	if (name == "security.ima" || name == "security.evm") {
		auto sig = parse_signature_v2(value);
		if (sig) {
			const char *kind =
			    sig->type == SigType::evm_portable ? "portable signature" : "signature";
			return std::string(kind) + " v2 " + std::string(hash_algo_name(sig->algo)) +
			       " keyid " + hex32(sig->keyid) + ", " + std::to_string(value.size()) +
			       " bytes";
		}
	}
	std::string h = to_hex(std::span(value).first(std::min<size_t>(value.size(), 12)));
	return h + (value.size() > 12 ? "..." : "") + " (" + std::to_string(value.size()) +
	       " bytes)";
}

const PayloadEntry *find_entry(const std::vector<PayloadEntry> &entries, const std::string &path)
{
	for (auto &e : entries)
		if (e.path == path)
			return &e;
	return nullptr;
}

// The last entry of that name: the kernel unpacks a later duplicate over an
// earlier one, so the last is what /init would read.
const CpioEntry *find_cpio(const std::vector<CpioEntry> &entries, const std::string &name)
{
	const CpioEntry *found = nullptr;
	for (auto &e : entries)
		if (e.name == name)
			found = &e;
	return found;
}

std::optional<std::string> find_sig_file(const std::string &tar_path)
{
	std::string candidates[2] = { tar_path + ".sig", "" };
	size_t slash = tar_path.rfind('/');
	std::string dir = slash == std::string::npos ? "" : tar_path.substr(0, slash + 1);
	candidates[1] = dir + "payload.sig";
	for (auto &c : candidates)
		if (::access(c.c_str(), F_OK) == 0)
			return c;
	return std::nullopt;
}

// Certificates named by the payload (or given on the command line).
struct CertSet {
	std::vector<PublicKey> keys;

	std::vector<const PublicKey *> ptrs() const
	{
		std::vector<const PublicKey *> v;
		for (auto &k : keys)
			v.push_back(&k);
		return v;
	}
};

Status load_certs(CertSet &set, const std::vector<std::string> &paths)
{
	for (auto &p : paths) {
		auto k = load_public_key(p);
		if (!k)
			return std::unexpected(k.error());
		set.keys.push_back(std::move(*k));
	}
	return {};
}

void payload_cert(CertSet &set, const std::vector<PayloadEntry> &entries, const std::string &path,
		  Report &rep)
{
	const PayloadEntry *e = find_entry(entries, path);
	if (!e)
		return;
	auto k = parse_public_key(e->data, path);
	if (!k) {
		rep.fail(path + ": " + k.error().what());
		return;
	}
	set.keys.push_back(std::move(*k));
}

void lint_payload_policy(const PayloadEntry &policy, bool quiet, Report &rep)
{
	std::string_view text(reinterpret_cast<const char *>(policy.data.data()),
			      policy.data.size());
	LintOptions lo;
	lo.expect_signed_policy = true;
	auto issues = lint_policy(text, lo);
	for (auto &issue : issues) {
		std::string where =
		    policy.path + (issue.line ? ":" + std::to_string(issue.line) : "");
		if (issue.severity == LintIssue::Severity::error)
			rep.fail(where + ": " + issue.message);
		else
			rep.warn(where + ": " + issue.message);
	}
	if (!quiet && !has_errors(issues))
		std::printf("%s: policy lint ok\n", policy.path.c_str());
}

int verify_archive(const std::string &path, const Options &o)
{
	Report rep;
	rep.quiet = o.quiet;
	auto data = read_file(path, size_t(2) << 30);
	if (!data) {
		std::fprintf(stderr, "%s: %s\n", prog, data.error().what().c_str());
		return 1;
	}

	Bytes tar, sig, trust_der;
	std::string sig_name, tar_name = layout::payload_tar;
	bool trust_from_archive = false;
	if (is_tar(*data)) {
		tar = std::move(*data);
		tar_name = path;
		std::string sig_path = o.sig;
		if (sig_path.empty()) {
			auto found = find_sig_file(path);
			if (!found) {
				std::fprintf(stderr,
					     "%s: %s: no signature beside the payload (looked for "
					     "%s.sig and payload.sig); give --sig FILE\n",
					     prog, path.c_str(), path.c_str());
				return 1;
			}
			sig_path = *found;
		}
		auto s = read_file(sig_path, 64 << 10);
		if (!s) {
			std::fprintf(stderr, "%s: %s\n", prog, s.error().what().c_str());
			return 1;
		}
		sig = std::move(*s);
		sig_name = sig_path;
	} else {
		if (!o.sig.empty())
			return usage_error(
			    "--sig is for a bare payload.tar; an initramfs carries " +
			    std::string(layout::payload_sig));
		auto entries = read_cpio(*data);
		if (!entries) {
			std::fprintf(stderr, "%s: %s: neither a tar payload nor an initramfs: %s\n",
				     prog, path.c_str(), entries.error().what().c_str());
			return 1;
		}
		if (!o.quiet) {
			std::printf("initramfs %s:\n", path.c_str());
			for (auto &e : *entries)
				std::printf("  %s %4u/%-4u %10zu  %s\n",
					    mode_string(e.mode).c_str(), e.uid, e.gid,
					    e.data.size(), e.name.c_str());
		}
		// Without /init the archive is an initrd for a kernel that has
		// ima-init built in (build --no-init): fine, but worth saying.
		const CpioEntry *init = find_cpio(*entries, "init");
		if (!init && !o.quiet)
			std::printf(
			    "no /init: this archive needs a kernel with ima-init built in\n");
		else if (init && (!S_ISREG(init->mode) || !(init->mode & 0111)))
			rep.fail(path +
				 ": /init is not an executable file: the kernel would not run it");
		const CpioEntry *t = find_cpio(*entries, layout::payload_tar);
		const CpioEntry *s = find_cpio(*entries, layout::payload_sig);
		if (!t || !s) {
			std::fprintf(stderr, "%s: %s: no %s\n", prog, path.c_str(),
				     !t ? layout::payload_tar : layout::payload_sig);
			return 1;
		}
		tar = t->data;
		sig = s->data;
		sig_name = layout::payload_sig;
		if (const CpioEntry *d = find_cpio(*entries, layout::trust_der)) {
			trust_der = d->data;
			trust_from_archive = true;
		}
	}

	// The payload signature first: nothing inside means anything without it.
	std::optional<PublicKey> trust;
	if (!o.trust.empty()) {
		auto k = load_public_key(o.trust);
		if (!k) {
			std::fprintf(stderr, "%s: %s\n", prog, k.error().what().c_str());
			return 1;
		}
		trust.emplace(std::move(*k));
	} else if (trust_from_archive) {
		auto k = parse_public_key(trust_der, layout::trust_der);
		if (!k) {
			std::fprintf(stderr, "%s: %s: %s\n", prog, layout::trust_der,
				     k.error().what().c_str());
			return 1;
		}
		trust.emplace(std::move(*k));
		rep.warn(
		    std::string("trust anchor taken from the archive itself (") +
			layout::trust_der +
			"): this proves the payload is intact, not who signed it; give --trust "
			"CERT to check its origin",
		    "WARNING");
	} else {
		std::fprintf(
		    stderr,
		    "%s: %s: no trust anchor: the archive carries no %s (it may be compiled "
		    "into /init); give --trust CERT\n",
		    prog, path.c_str(), layout::trust_der);
		return 1;
	}
	if (is_debug_key(*trust))
		rep.warn("the payload trust anchor is a published debug key (keys/debug/)");
	if (auto r = verify_payload(tar, sig, *trust); !r)
		rep.fail(sig_name + ": " + r.error().what());
	else if (!o.quiet)
		std::printf("%s: payload signature ok (key %s%s)\n", sig_name.c_str(),
			    hex32(trust->keyid()).c_str(),
			    trust->subject().empty() ? "" : (", " + trust->subject()).c_str());

	auto entries = read_payload_tar(tar);
	if (!entries) {
		rep.fail(tar_name + ": " + entries.error().what());
		return 1;
	}

	// What /init will do, from the payload's own configuration.
	InitConfig cfg;
	bool have_cfg = false;
	if (const PayloadEntry *c = find_entry(*entries, layout::config)) {
		std::string_view text(reinterpret_cast<const char *>(c->data.data()),
				      c->data.size());
		auto parsed = parse_config(text);
		if (!parsed)
			rep.fail(std::string(layout::config) + ": " + parsed.error().what());
		else {
			cfg = std::move(*parsed);
			have_cfg = true;
		}
	} else {
		rep.warn(std::string("payload has no ") + layout::config +
			 ": using the default certificate and policy paths");
	}
	auto named = [&](const std::string &p, const char *dflt) {
		return have_cfg ? p : (find_entry(*entries, dflt) ? std::string(dflt) : "");
	};
	std::string ima_path = named(cfg.ima_cert, layout::ima_cert);
	std::string evm_path = named(cfg.evm_cert, layout::evm_cert);
	std::string policy_path = named(cfg.policy, layout::policy);
	if (have_cfg) {
		std::vector<std::string> needed = { cfg.ima_cert, cfg.evm_cert, cfg.ca_cert,
						    cfg.policy };
		for (auto &m : cfg.modules)
			if (!m.optional)
				needed.push_back(m.path);
		for (auto &p : needed)
			if (!p.empty() && !find_entry(*entries, p))
				rep.fail(std::string(layout::config) + " names " + p +
					 ", which the payload lacks: /init would fail");
	}

	CertSet ima_keys, evm_keys;
	if (!o.ima_certs.empty()) {
		if (auto r = load_certs(ima_keys, o.ima_certs); !r) {
			std::fprintf(stderr, "%s: %s\n", prog, r.error().what().c_str());
			return 1;
		}
	} else if (!ima_path.empty()) {
		payload_cert(ima_keys, *entries, ima_path, rep);
	}
	if (!o.evm_certs.empty()) {
		if (auto r = load_certs(evm_keys, o.evm_certs); !r) {
			std::fprintf(stderr, "%s: %s\n", prog, r.error().what().c_str());
			return 1;
		}
	} else if (!evm_path.empty()) {
		payload_cert(evm_keys, *entries, evm_path, rep);
	}

	// /init refuses certificates that do not chain to the configured CA.
	if (have_cfg && !cfg.ca_cert.empty())
		if (const PayloadEntry *ca_entry = find_entry(*entries, cfg.ca_cert)) {
			auto ca = parse_public_key(ca_entry->data, cfg.ca_cert);
			if (!ca)
				rep.fail(cfg.ca_cert + ": " + ca.error().what());
			else
				for (auto *set : { &ima_keys, &evm_keys })
					for (auto &k : set->keys)
						if (auto r = cert_signed_by(k, *ca); !r)
							rep.fail(k.path + ": not signed by " +
								 cfg.ca_cert + ": " +
								 r.error().what());
						else if (!o.quiet)
							std::printf("%s: signed by %s: ok\n",
								    k.path.c_str(),
								    cfg.ca_cert.c_str());
		}

	if (!o.quiet)
		std::printf("payload %s (%zu entries):\n", tar_name.c_str(), entries->size());
	auto ima_ptrs = ima_keys.ptrs();
	auto evm_ptrs = evm_keys.ptrs();
	if (ima_ptrs.empty())
		rep.fail("no IMA certificate to check security.ima against: the payload has no " +
			 (ima_path.empty() ? std::string(layout::ima_cert) : ima_path) +
			 "; give --ima-cert");
	size_t files = 0, evm_unchecked = 0;
	for (auto &e : *entries) {
		// Verdicts per xattr, for the listing; failures also go to stderr.
		std::string ima_verdict, evm_verdict;
		if (e.kind == PayloadEntry::Kind::file) {
			files++;
			const Bytes *ima = nullptr, *evm = nullptr;
			for (auto &[name, value] : e.xattrs) {
				if (name == "security.ima")
					ima = &value;
				else if (name == "security.evm")
					evm = &value;
			}
			// Every file of the payload is signed content: the policy
			// and modules are appraised by the kernel, and an unsigned
			// file is denied by any appraise rule that covers it.
			if (!ima) {
				rep.fail(e.path + ": missing security.ima");
			} else if (ima_ptrs.empty()) {
				ima_verdict = "not checked";
			} else if (auto r = ima_verify_buffer(*ima, e.data, ima_ptrs); !r) {
				rep.fail(e.path + ": security.ima: " + r.error().what());
				ima_verdict = "FAILED";
			} else {
				ima_verdict = "ok";
			}
			if (evm && evm_ptrs.empty()) {
				evm_unchecked++;
				evm_verdict = "not checked";
			} else if (evm) {
				auto r = evm_portable_verify(*evm, e.xattrs, e.meta(), evm_ptrs);
				if (!r)
					rep.fail(e.path + ": " + r.error().what());
				evm_verdict = r ? "ok" : "FAILED";
			} else if (!evm_ptrs.empty()) {
				// Once /init gives EVM its key, a file without
				// security.evm fails appraisal.
				rep.fail(e.path + ": missing security.evm (the payload has an EVM "
						  "certificate)");
			}
		}
		if (o.quiet)
			continue;
		std::printf("  %s %4u/%-4u %10zu  %s", mode_string(e.meta().mode).c_str(), e.uid,
			    e.gid, e.data.size(), e.path.c_str());
		if (e.kind == PayloadEntry::Kind::symlink)
			std::printf(" -> %s", e.target.c_str());
		std::printf("\n");
		for (auto &[name, value] : e.xattrs) {
			const std::string &v = name == "security.ima"	? ima_verdict
					       : name == "security.evm" ? evm_verdict
									: std::string();
			std::printf("      %s: %s%s%s\n", name.c_str(),
				    describe_xattr(name, value).c_str(), v.empty() ? "" : ": ",
				    v.c_str());
		}
	}
	if (evm_unchecked)
		rep.warn(
		    "security.evm of " + std::to_string(evm_unchecked) +
		    " files not checked: the payload has no EVM certificate (give --evm-cert)");

	if (o.lint && !policy_path.empty())
		if (const PayloadEntry *p = find_entry(*entries, policy_path))
			lint_payload_policy(*p, o.quiet, rep);

	if (!o.quiet || rep.failures)
		std::printf("%zu files in the payload: %s\n", files,
			    rep.failures ? (std::to_string(rep.failures) +
					    (rep.failures == 1 ? " failure" : " failures"))
					       .c_str()
					 : "all checks passed");
	return rep.failures ? 1 : 0;
}

} // namespace

int mkinitramfs::cmd_verify(int argc, char **argv)
{
	Options o;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "t:s:c:ej:x:qh", long_options, nullptr)) != -1) {
		switch (c) {
		case 't':
			o.trust = optarg;
			break;
		case 's':
			o.sig = optarg;
			break;
		case opt_ima_cert:
			o.ima_certs.emplace_back(optarg);
			break;
		case opt_evm_cert:
			o.evm_certs.emplace_back(optarg);
			break;
		case opt_no_lint:
			o.lint = false;
			break;
		case 'c':
			o.certs.emplace_back(optarg);
			break;
		case 'e':
			o.evm = true;
			break;
		case 'j': {
			auto n = mkinitramfs::parse_jobs(optarg);
			if (!n)
				return usage_error(n.error().what());
			o.jobs = *n;
			break;
		}
		case 'x':
			o.walk.exclude.emplace_back(optarg);
			break;
		case opt_cross_mounts:
			o.walk.cross_mounts = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("bad option");
		}
	}
	if (optind != argc - 1)
		return usage_error(optind >= argc ? "missing ARCHIVE or DIR"
						  : "only one ARCHIVE or DIR, please");
	std::string target = argv[optind];
	struct stat st;
	if (::stat(target.c_str(), &st) != 0) {
		std::fprintf(stderr, "%s: %s\n", prog,
			     Error{ errno, "cannot stat " + target }.what().c_str());
		return 1;
	}
	if (S_ISDIR(st.st_mode))
		return verify_dir(target, o);
	if (!o.certs.empty() || o.evm || o.jobs || !o.walk.exclude.empty() || o.walk.cross_mounts)
		return usage_error("--cert, --evm, --jobs, --exclude and --cross-mounts are for a "
				   "tree; an archive takes --trust, --ima-cert and --evm-cert");
	return verify_archive(target, o);
}
