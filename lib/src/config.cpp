#include "imainit/config.h"

#include <charconv>
#include <cstdio>
#include <map>

namespace imainit
{

namespace
{

// security/integrity/evm/evm.h: EVM_INIT_MASK. The kernel answers any
// other bit with EINVAL at boot; the packer should say so first.
constexpr uint32_t evm_init_hmac = 0x1;
constexpr uint32_t evm_init_x509 = 0x2;
constexpr uint32_t evm_allow_metadata_writes = 0x4;
constexpr uint32_t evm_setup_complete = 0x80000000;
constexpr uint32_t evm_init_mask =
    evm_init_hmac | evm_init_x509 | evm_allow_metadata_writes | evm_setup_complete;

constexpr std::string_view blanks = " \t\r";

std::string_view trim(std::string_view s)
{
	size_t b = s.find_first_not_of(blanks);
	if (b == std::string_view::npos)
		return {};
	size_t e = s.find_last_not_of(blanks);
	return s.substr(b, e - b + 1);
}

std::string hex(uint32_t v)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%x", v);
	return buf;
}

Result<bool> parse_bool(std::string_view v)
{
	if (v == "yes" || v == "true" || v == "1")
		return true;
	if (v == "no" || v == "false" || v == "0")
		return false;
	return fail("expected yes/no/true/false/1/0");
}

// Decimal, or hex with 0x. A leading 0 is refused: the kernel's
// kstrtouint(..., 0) would read "010" as octal, this file as decimal.
Result<uint32_t> parse_u32(std::string_view v, bool allow_hex)
{
	int base = 10;
	if (allow_hex && (v.starts_with("0x") || v.starts_with("0X"))) {
		base = 16;
		v.remove_prefix(2);
	} else if (v.size() > 1 && v[0] == '0' && v[1] >= '0' && v[1] <= '9') {
		return fail("leading zero (octal or decimal?)");
	}
	uint32_t out = 0;
	auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
	if (v.empty() || ec == std::errc::invalid_argument || end != v.data() + v.size())
		return fail(allow_hex ? "expected a decimal or 0x-prefixed hex number"
				      : "expected a decimal number");
	if (ec == std::errc::result_out_of_range)
		return fail("number out of range");
	return out;
}

// Paths name files inside the payload, spelled exactly as the payload
// stores them; blanks are refused because a module line is "PATH optional".
Status check_payload_path(std::string_view p)
{
	if (p.front() == '/')
		return fail("path must be relative to the payload root");
	if (p.find_first_of(" \t") != std::string_view::npos)
		return fail("path contains blanks");
	if (p.back() == '/')
		return fail("path ends with '/'");
	std::string_view rest = p;
	for (;;) {
		size_t slash = rest.find('/');
		auto c = rest.substr(0, slash);
		if (c.empty() || c == "." || c == "..")
			return fail("path has an empty, '.' or '..' component");
		if (slash == std::string_view::npos)
			break;
		rest.remove_prefix(slash + 1);
	}
	return {};
}

Status check_xattr_name(std::string_view n)
{
	for (std::string_view ns : { "security.", "trusted.", "user." })
		if (n.starts_with(ns) && n.size() > ns.size() &&
		    n.find_first_of(" \t=") == std::string_view::npos)
			return {};
	return fail("expected security.NAME, trusted.NAME or user.NAME");
}

} // namespace

std::string_view failure_action_name(FailureAction a)
{
	switch (a) {
	case FailureAction::halt:
		return "halt";
	case FailureAction::reboot:
		return "reboot";
	case FailureAction::panic:
		return "panic";
	}
	return "halt";
}

Result<FailureAction> failure_action_from_name(std::string_view s)
{
	for (auto a : { FailureAction::halt, FailureAction::reboot, FailureAction::panic })
		if (s == failure_action_name(a))
			return a;
	return fail("unknown failure action '" + std::string(s) +
		    "' (expected halt, reboot or panic)");
}

Result<InitConfig> parse_config(std::string_view text)
{
	InitConfig c;
	// A key given twice is an error: which of two evm_mode lines wins is
	// exactly the kind of ambiguity a signed configuration must not have.
	std::map<std::string, unsigned, std::less<>> first_line;
	unsigned lineno = 0;
	while (!text.empty()) {
		size_t nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
		lineno++;
		line = trim(line);
		// Comments are whole lines only: '#' may appear in a value.
		if (line.empty() || line.front() == '#')
			continue;
		std::string where = "line " + std::to_string(lineno);
		size_t eq = line.find('=');
		if (eq == std::string_view::npos)
			return fail(where + ": expected 'key = value'");
		std::string key(trim(line.substr(0, eq)));
		std::string_view value = trim(line.substr(eq + 1));
		auto bad = [&](const std::string &why) {
			return fail(where + ": " + key + ": bad value '" + std::string(value) +
				    "': " + why);
		};

		bool repeated = key == "module" || key == "firmware" || key == "xattr_allow";
		if (!repeated) {
			auto [it, fresh] = first_line.emplace(key, lineno);
			if (!fresh)
				return fail(where + ": " + key + " is already set on line " +
					    std::to_string(it->second));
		}

		if (key == "ima_cert" || key == "evm_cert" || key == "ca_cert" || key == "policy") {
			if (!value.empty())
				if (auto r = check_payload_path(value); !r)
					return bad(r.error().msg);
			std::string &dst = key == "ima_cert"   ? c.ima_cert
					   : key == "evm_cert" ? c.evm_cert
					   : key == "ca_cert"  ? c.ca_cert
							       : c.policy;
			dst = value;
		} else if (key == "evm_mode") {
			auto v = parse_u32(value, true);
			if (!v)
				return bad(v.error().msg);
			if (*v & ~evm_init_mask)
				return bad("unknown bits " + hex(*v & ~evm_init_mask) +
					   " (the kernel knows " + hex(evm_init_mask) + ")");
			c.evm_mode = *v;
		} else if (key == "failure_action") {
			auto a = failure_action_from_name(value);
			if (!a)
				return bad("expected halt, reboot or panic");
			c.failure_action = *a;
		} else if (key == "allow_untrusted_keyring" || key == "lock_keyrings" ||
			   key == "require_signed_init") {
			auto b = parse_bool(value);
			if (!b)
				return bad(b.error().msg);
			bool &dst = key == "allow_untrusted_keyring" ? c.allow_untrusted_keyring
				    : key == "lock_keyrings"	     ? c.lock_keyrings
								     : c.require_signed_init;
			dst = *b;
		} else if (key == "root_wait") {
			auto v = parse_u32(value, false);
			if (!v)
				return bad(v.error().msg);
			c.root_wait = *v;
		} else if (key == "module") {
			size_t sp = value.find_first_of(" \t");
			std::string_view path = value.substr(0, sp);
			std::string_view flag = sp == std::string_view::npos
						    ? std::string_view{}
						    : trim(value.substr(sp));
			if (path.empty())
				return bad("expected PATH [optional]");
			if (auto r = check_payload_path(path); !r)
				return bad(r.error().msg);
			if (!flag.empty() && flag != "optional")
				return bad("expected PATH [optional], not '" + std::string(flag) +
					   "'");
			c.modules.push_back(ModuleSpec{ std::string(path), !flag.empty() });
		} else if (key == "firmware") {
			if (value.empty())
				return bad("expected PATH");
			if (auto r = check_payload_path(value); !r)
				return bad(r.error().msg);
			c.firmware.emplace_back(value);
		} else if (key == "xattr_allow") {
			if (auto r = check_xattr_name(value); !r)
				return bad(r.error().msg);
			c.xattr_allow.emplace_back(value);
		} else {
			return fail(where + ": unknown key '" + key + "'");
		}
	}
	return c;
}

std::string format_config(const InitConfig &c)
{
	std::string out = "# ima-init configuration: read by /init from the signed payload.\n";
	auto line = [&](std::string_view key, std::string_view value) {
		out += key;
		out += " = ";
		out += value;
		out += '\n';
	};
	auto yesno = [](bool b) { return b ? "yes" : "no"; };
	if (!c.ima_cert.empty())
		line("ima_cert", c.ima_cert);
	if (!c.evm_cert.empty())
		line("evm_cert", c.evm_cert);
	if (!c.ca_cert.empty())
		line("ca_cert", c.ca_cert);
	if (!c.policy.empty())
		line("policy", c.policy);
	line("evm_mode", hex(c.evm_mode));
	line("failure_action", failure_action_name(c.failure_action));
	line("allow_untrusted_keyring", yesno(c.allow_untrusted_keyring));
	line("lock_keyrings", yesno(c.lock_keyrings));
	line("require_signed_init", yesno(c.require_signed_init));
	line("root_wait", std::to_string(c.root_wait));
	for (auto &m : c.modules)
		line("module", m.optional ? m.path + " optional" : m.path);
	for (auto &f : c.firmware)
		line("firmware", f);
	for (auto &x : c.xattr_allow)
		line("xattr_allow", x);
	return out;
}

} // namespace imainit
