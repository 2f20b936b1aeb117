#include "evm_mode.h"

#include "log.h"

#include "imainit/fd.h"
#include "imainit/io.h"
#include "imainit/kernel_errors.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace imainit::boot
{

namespace
{

// security/integrity/evm/evm.h
constexpr uint32_t evm_init_hmac = 0x1;
constexpr uint32_t evm_allow_metadata_writes = 0x4;
constexpr uint32_t evm_setup_complete = 0x80000000;

Result<uint32_t> read_evm()
{
	auto data = read_file(evm_file, 64);
	if (!data) {
		int e = data.error().err;
		return fail(std::string(evm_file) + ": " + explain_evm_error(e), e);
	}
	std::string s(data->begin(), data->end());
	while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
		s.pop_back();
	uint32_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return fail(std::string(evm_file) + ": unexpected content \"" + s + "\"");
	return v;
}

std::string describe(uint32_t v)
{
	std::string s;
	auto add = [&](const char *n) { s += (s.empty() ? "" : ", ") + std::string(n); };
	if (v & evm_init_hmac)
		add("HMAC");
	if (v & 0x2)
		add("X509");
	if (v & evm_allow_metadata_writes)
		add("metadata writes allowed");
	if (v & evm_setup_complete)
		add("setup complete");
	return s.empty() ? "off" : s;
}

} // namespace

uint32_t evm_expected_readback(uint32_t mode)
{
	uint32_t v = mode & ~evm_setup_complete;
	// evm_write_key(): an HMAC key forbids metadata writes.
	if (v & evm_init_hmac)
		v &= ~evm_allow_metadata_writes;
	return v;
}

Status set_evm_mode(BootContext &ctx)
{
	uint32_t mode = ctx.config.evm_mode;
	if (mode == 0) {
		log_info("EVM mode not configured: EVM is left as the kernel set it");
		return {};
	}
	auto before = read_evm();
	if (!before)
		return std::unexpected(before.error());

	char buf[16];
	int len = std::snprintf(buf, sizeof(buf), "0x%x", mode);
	UniqueFd fd(::open(evm_file, O_WRONLY | O_CLOEXEC));
	if (!fd) {
		int e = errno;
		return fail(std::string(evm_file) + ": " + explain_evm_error(e), e);
	}
	ssize_t n = ::write(fd.get(), buf, static_cast<size_t>(len));
	if (n < 0) {
		int e = errno;
		return fail("writing " + std::string(buf) + " to " + evm_file + ": " +
				explain_evm_error(e),
			    e);
	}
	if (n != len)
		return fail("writing " + std::string(buf) + " to " + evm_file + ": short write");
	fd.reset();

	auto after = read_evm();
	if (!after)
		return std::unexpected(after.error());
	uint32_t want = evm_expected_readback(mode);
	if ((*after & want) != want)
		return fail("EVM mode " + std::string(buf) + " written but the kernel reports " +
			    std::to_string(*after) + " (" + describe(*after) + ")");
	log_info("EVM mode " + std::string(buf) + " (" + describe(mode) +
		 ") set; the kernel reports " + std::to_string(*after) + " (was " +
		 std::to_string(*before) + ")");
	return {};
}

} // namespace imainit::boot
