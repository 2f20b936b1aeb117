#include "options.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <openssl/x509.h>
#include <unistd.h>

using namespace imainit;

namespace mkinitramfs
{

int report_failure(std::string_view prog, const std::string &msg)
{
	std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(prog.size()), prog.data(), msg.c_str());
	return 1;
}

int report_usage_error(std::string_view prog, const std::string &msg)
{
	std::fprintf(stderr, "%.*s: %s\n(see %.*s --help)\n", static_cast<int>(prog.size()),
		     prog.data(), msg.c_str(), static_cast<int>(prog.size()), prog.data());
	return 2;
}

Status set_passphrase(KeyOptions &o, const std::string &file, const std::string &env)
{
	if (!file.empty() && !env.empty())
		return fail("--pass-file and --pass-env are exclusive");
	o.pass.file = file;
	o.pass.env = env;
	return {};
}

Status refuse_debug_key(EVP_PKEY *key, const std::string &path, const KeyOptions &o)
{
	if (!o.allow_debug_keys && is_debug_key(key))
		return fail(path + ": refusing a debug key: its private half is published in "
				   "keys/debug/ (--allow-debug-keys for tests)");
	return {};
}

Result<PrivateKey> load_key(const std::string &path, const KeyOptions &o)
{
	auto key = load_private_key(path, o.pass);
	if (!key)
		return std::unexpected(key.error());
	key->path = path;
	if (auto r = refuse_debug_key(key->get(), path, o); !r)
		return std::unexpected(r.error());
	return key;
}

Result<PublicKey> load_verification_key(const std::string &path, const KeyOptions &o)
{
	auto key = load_public_key(path);
	if (!key)
		return std::unexpected(key.error());
	key->path = path;
	if (auto r = refuse_debug_key(key->get(), path, o); !r)
		return std::unexpected(r.error());
	return key;
}

Result<PublicKey> load_cert(const std::string &path, const KeyOptions &o)
{
	auto key = load_verification_key(path, o);
	if (!key)
		return key;
	if (!key->cert())
		return fail(path + ": is a bare public key; an X.509 certificate is needed");
	return key;
}

Result<Bytes> public_key_der(const PublicKey &key)
{
	if (!key.der().empty())
		return key.der();
	int len = i2d_PUBKEY(key.get(), nullptr);
	if (len <= 0)
		return fail(key.path + ": cannot encode the public key: " + ossl::last_error());
	Bytes der(static_cast<size_t>(len));
	uint8_t *p = der.data();
	i2d_PUBKEY(key.get(), &p);
	return der;
}

Result<unsigned long> parse_unsigned(std::string_view s, unsigned long max)
{
	unsigned long v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
	if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size())
		return fail("'" + std::string(s) + "' is not a decimal number");
	if (ec == std::errc::result_out_of_range || v > max)
		return fail("'" + std::string(s) + "' is larger than " + std::to_string(max));
	return v;
}

Result<unsigned> parse_jobs(std::string_view s)
{
	auto n = parse_unsigned(s, 1024);
	if (!n)
		return wrap(n.error(), "--jobs");
	if (*n == 0)
		return fail("--jobs: 0 threads");
	return static_cast<unsigned>(*n);
}

Result<uint32_t> source_date_epoch()
{
	const char *v = std::getenv("SOURCE_DATE_EPOCH");
	if (!v)
		return 0;
	auto n = parse_unsigned(v, UINT32_MAX);
	if (!n)
		return wrap(n.error(), "SOURCE_DATE_EPOCH");
	return static_cast<uint32_t>(*n);
}

imainit::TreeProgress terminal_progress(bool quiet)
{
	imainit::TreeProgress p;
	if (quiet || !::isatty(STDERR_FILENO))
		return p;
	p.report = [](size_t done, size_t total) {
		std::fprintf(stderr, "\r%zu/%zu files", done, total);
		std::fflush(stderr);
	};
	return p;
}

void end_progress(const imainit::TreeProgress &p)
{
	if (p.report)
		std::fprintf(stderr, "\r\033[K");
}

} // namespace mkinitramfs
