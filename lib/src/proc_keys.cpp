#include "imainit/proc_keys.h"

#include <charconv>

namespace imainit
{

namespace
{

bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

std::string_view next_field(std::string_view &line)
{
	size_t i = 0;
	while (i < line.size() && is_space(line[i]))
		i++;
	size_t start = i;
	while (i < line.size() && !is_space(line[i]))
		i++;
	std::string_view f = line.substr(start, i - start);
	line.remove_prefix(i);
	return f;
}

template <class T> bool to_number(std::string_view s, T &out, int base)
{
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
	return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// keyring_describe() ends a keyring's description with ": <n>" or
// ": empty" once it is instantiated.
std::string_view keyring_suffix(std::string_view d)
{
	auto pos = d.rfind(": ");
	if (pos == std::string_view::npos)
		return {};
	std::string_view tail = d.substr(pos + 2);
	unsigned n;
	if (tail == "empty" || to_number(tail, n, 10))
		return d.substr(pos);
	return {};
}

} // namespace

std::string ProcKey::name() const
{
	if (type != "keyring")
		return description;
	std::string_view d = description;
	d.remove_suffix(keyring_suffix(d).size());
	return std::string(d);
}

std::optional<unsigned> ProcKey::key_count() const
{
	if (type != "keyring")
		return std::nullopt;
	std::string_view s = keyring_suffix(description);
	if (s.empty())
		return std::nullopt;
	s.remove_prefix(2);
	if (s == "empty")
		return 0u;
	unsigned n = 0;
	to_number(s, n, 10);
	return n;
}

Result<std::vector<ProcKey>> parse_proc_keys(std::string_view text)
{
	std::vector<ProcKey> keys;
	unsigned lineno = 0;
	while (!text.empty()) {
		auto nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
		lineno++;
		if (line.find_first_not_of(" \t") == std::string_view::npos)
			continue;

		auto bad = [&](const char *what) {
			return fail("/proc/keys line " + std::to_string(lineno) + ": " + what +
				    ": \"" + std::string(line) + "\"");
		};
		std::string_view rest = line;
		ProcKey k;
		uint32_t serial = 0;
		if (!to_number(next_field(rest), serial, 16))
			return bad("bad serial");
		k.serial = static_cast<int32_t>(serial);
		k.flags = next_field(rest);
		if (k.flags.size() != 7)
			return bad("bad flags");
		if (!to_number(next_field(rest), k.usage, 10))
			return bad("bad usage count");
		k.expiry = next_field(rest);
		if (k.expiry.empty())
			return bad("no expiry");
		if (!to_number(next_field(rest), k.perm, 16))
			return bad("bad permissions");
		if (!to_number(next_field(rest), k.uid, 10))
			return bad("bad uid");
		if (!to_number(next_field(rest), k.gid, 10))
			return bad("bad gid");
		k.type = next_field(rest);
		if (k.type.empty())
			return bad("no key type");
		while (!rest.empty() && is_space(rest.front()))
			rest.remove_prefix(1);
		while (!rest.empty() && (is_space(rest.back()) || rest.back() == '\r'))
			rest.remove_suffix(1);
		k.description = rest;
		keys.push_back(std::move(k));
	}
	return keys;
}

std::optional<ProcKey> find_keyring(const std::vector<ProcKey> &keys, std::string_view name)
{
	const ProcKey *found = nullptr;
	for (auto &k : keys) {
		if (k.type != "keyring" || k.name() != name)
			continue;
		if (k.flags.find_first_of("RDi") != std::string::npos)
			continue; // revoked, dead or invalidated: unusable
		if (k.uid == 0)
			return k;
		if (!found)
			found = &k;
	}
	if (found)
		return *found;
	return std::nullopt;
}

std::optional<ProcKey> find_key(const std::vector<ProcKey> &keys, int32_t serial)
{
	for (auto &k : keys)
		if (k.serial == serial)
			return k;
	return std::nullopt;
}

std::string describe_key_perm(uint32_t perm)
{
	static constexpr struct {
		const char *who;
		int shift;
	} classes[] = {
		{ "possessor", key_perm_pos_shift },
		{ "user", key_perm_usr_shift },
		{ "group", key_perm_grp_shift },
		{ "other", key_perm_oth_shift },
	};
	static constexpr struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{ key_perm_view, "view" },   { key_perm_read, "read" },
		{ key_perm_write, "write" }, { key_perm_search, "search" },
		{ key_perm_link, "link" },   { key_perm_setattr, "setattr" },
	};
	std::string out;
	for (auto &c : classes) {
		uint32_t p = (perm >> c.shift) & 0xff;
		if (!out.empty())
			out += "; ";
		out += c.who;
		out += ":";
		if (p == 0)
			out += " none";
		for (auto &b : bits)
			if (p & b.bit)
				out += std::string(" ") + b.name;
	}
	return out;
}

} // namespace imainit
