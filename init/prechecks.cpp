#include "prechecks.h"

#include "file_signatures.h"
#include "log.h"

#include "imainit/fd.h"
#include "imainit/io.h"
#include "imainit/xattr.h"

#include <fcntl.h>

namespace imainit::boot
{

namespace
{

Result<std::optional<PublicKey>> load_cert(const BootContext &ctx, const std::string &rel,
					   const char *key)
{
	if (rel.empty())
		return std::optional<PublicKey>();
	std::string path = ctx.payload_path(rel);
	auto data = read_file(path, max_key_file_size);
	if (!data)
		return wrap(data.error(), std::string(key) + " " + rel);
	// The signed payload can carry an empty file (a certificate that was
	// missing when it was packed): name that rather than a parse error.
	if (data->empty())
		return fail(std::string(key) + " " + rel +
			    " is empty (0 bytes): no certificate in it");
	auto k = parse_public_key(*data, path);
	if (!k)
		return wrap(k.error(), std::string(key) + " " + rel);
	if (!k->cert())
		return fail(std::string(key) + " " + rel +
			    ": a bare public key; the kernel keyrings need an X.509 certificate");
	return std::optional<PublicKey>(std::move(*k));
}

std::string who(const PublicKey &k)
{
	std::string s = k.subject();
	return s.empty() ? k.path : s;
}

// The signatures of one payload file. evm: the kernel reads the file after
// the EVM mode is set, so security.evm must verify too (the policy is read
// before, the modules after).
Status check_file(const BootContext &ctx, const std::string &rel, const char *what, bool evm)
{
	std::string path = ctx.payload_path(rel);
	UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
	if (!fd)
		return fail_errno(std::string(what) + " " + rel + " is not in the payload");
	if (ctx.ima_cert) {
		if (auto r = check_ima_signature(fd.get(), rel, *ctx.ima_cert); !r)
			return r;
	} else {
		auto v = get_xattr(fd.get(), "security.ima");
		if (!v)
			return wrap(v.error(), rel);
		if (!*v)
			return fail(rel + " has no security.ima signature");
	}
	if (evm && ctx.evm_cert && evm_x509_enabled(ctx)) {
		std::string note;
		if (auto r = check_evm_signature(fd.get(), rel, *ctx.evm_cert, &note); !r)
			return r;
		if (!note.empty())
			log_notice(note);
	}
	return {};
}

} // namespace

Status run_prechecks(BootContext &ctx)
{
	const InitConfig &c = ctx.config;
	struct {
		const std::string &rel;
		const char *key;
		std::optional<PublicKey> &out;
	} certs[] = {
		{ c.ca_cert, "ca_cert", ctx.ca_cert },
		{ c.ima_cert, "ima_cert", ctx.ima_cert },
		{ c.evm_cert, "evm_cert", ctx.evm_cert },
	};
	for (auto &cert : certs) {
		auto k = load_cert(ctx, cert.rel, cert.key);
		if (!k)
			return std::unexpected(k.error());
		cert.out = std::move(*k);
	}

	if (ctx.ca_cert) {
		for (auto *k : { &ctx.ima_cert, &ctx.evm_cert }) {
			if (!*k)
				continue;
			if (auto r = cert_signed_by(**k, *ctx.ca_cert); !r)
				return r;
			log_info((*k)->path.substr((*k)->path.rfind('/') + 1) + " (" + who(**k) +
				 ", keyid " + hex32((*k)->keyid()) + ") is signed by " +
				 who(*ctx.ca_cert));
		}
	}
	if (c.require_signed_init && !ctx.ima_cert)
		return fail("require_signed_init is set but no ima_cert is configured to check "
			    "the init's signature with");

	if (!c.policy.empty()) {
		if (!ctx.ima_cert)
			log_warn(
			    "no ima_cert configured: the policy signature is left to the kernel "
			    "(keys it loaded itself)");
		if (auto r = check_file(ctx, c.policy, "policy", false); !r)
			return r;
		log_info("policy " + c.policy + ": signature verified");
	}

	for (auto &m : c.modules) {
		auto r = check_file(ctx, m.path, "module", true);
		if (r)
			continue;
		if (!m.optional)
			return r;
		log_warn("optional module " + m.path + ": " + r.error().what() +
			 " (the kernel will likely refuse it)");
	}
	if (!c.modules.empty())
		log_info("module signatures checked (" + std::to_string(c.modules.size()) +
			 " modules)");
	return {};
}

} // namespace imainit::boot
