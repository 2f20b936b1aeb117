#include "imainit/policy_readback.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace imainit
{

namespace
{

std::vector<std::string_view> split_words(std::string_view s)
{
	std::vector<std::string_view> out;
	size_t i = 0;
	while (i < s.size()) {
		while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		size_t start = i;
		while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			i++;
		if (i > start)
			out.push_back(s.substr(start, i - start));
	}
	return out;
}

// Splits "uid>=..."-style options at the first '=', '<' or '>' (the
// kernel's uid<, uid>, fowner< ... forms).
std::pair<std::string_view, std::string_view> split_option(std::string_view o, char &op)
{
	auto pos = o.find_first_of("=<>");
	if (pos == std::string_view::npos) {
		op = 0;
		return { o, {} };
	}
	op = o[pos];
	return { o.substr(0, pos), o.substr(pos + 1) };
}

std::string normalise_number(std::string_view v, int base)
{
	std::string_view digits = v;
	if (base == 16 && (digits.starts_with("0x") || digits.starts_with("0X")))
		digits.remove_prefix(2);
	unsigned long long n = 0;
	auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
	if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
		return std::string(v);
	char buf[32];
	std::snprintf(buf, sizeof(buf), base == 16 ? "0x%llx" : "%llu", n);
	return buf;
}

std::string normalise_value(std::string_view key, std::string_view v)
{
	// ima_parse_rule() reads fsmagic with kstrtoul(..., 16) and
	// ima_policy_show() prints "0x%lx".
	if (key == "fsmagic")
		return normalise_number(v, 16);
	if (key == "uid" || key == "euid" || key == "gid" || key == "egid" || key == "fowner" ||
	    key == "fgroup" || key == "pcr")
		return normalise_number(v, 10);
	if (key == "fsuuid") {
		std::string s(v);
		for (auto &c : s)
			c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
		return s;
	}
	if (key == "func") {
		// Old names the parser still accepts.
		if (v == "PATH_CHECK")
			return "FILE_CHECK";
		if (v == "FILE_MMAP")
			return "MMAP_CHECK";
	}
	if (key == "appraise_algos") {
		// Printed in hash_algo order, whatever order was written.
		std::vector<std::string_view> algos;
		size_t start = 0;
		for (size_t i = 0; i <= v.size(); i++) {
			if (i == v.size() || v[i] == ',') {
				if (i > start)
					algos.push_back(v.substr(start, i - start));
				start = i + 1;
			}
		}
		std::sort(algos.begin(), algos.end());
		std::string s;
		for (auto a : algos) {
			if (!s.empty())
				s += ',';
			s += a;
		}
		return s;
	}
	return std::string(v);
}

} // namespace

std::vector<std::string> policy_rule_lines(std::string_view text)
{
	std::vector<std::string> out;
	while (!text.empty()) {
		auto nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
		auto first = line.find_first_not_of(" \t");
		if (first == std::string_view::npos)
			continue;
		line.remove_prefix(first);
		if (line.front() == '#')
			continue;
		while (!line.empty() &&
		       (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
			line.remove_suffix(1);
		out.emplace_back(line);
	}
	return out;
}

std::string normalise_policy_rule(std::string_view rule)
{
	auto words = split_words(rule);
	if (words.empty())
		return {};
	std::vector<std::string> opts;
	for (size_t i = 1; i < words.size(); i++) {
		char op = 0;
		auto [key, value] = split_option(words[i], op);
		if (op == 0) {
			opts.emplace_back(key);
			continue;
		}
		opts.push_back(std::string(key) + op + normalise_value(key, value));
	}
	std::sort(opts.begin(), opts.end());
	std::string out(words[0]);
	for (auto &o : opts)
		out += " " + o;
	return out;
}

PolicyReadback compare_policy_readback(std::string_view file, std::string_view kernel)
{
	PolicyReadback r;
	auto file_lines = policy_rule_lines(file);
	auto kernel_lines = policy_rule_lines(kernel);
	std::vector<std::string> f, k;
	for (auto &l : file_lines)
		f.push_back(normalise_policy_rule(l));
	for (auto &l : kernel_lines)
		k.push_back(normalise_policy_rule(l));
	r.file_rules = f.size();
	r.kernel_rules = k.size();

	if (f.empty()) {
		r.match = true;
		r.detail = "the file has no rules";
		return r;
	}
	// The longest prefix of the file's rules found from any start, to
	// name the first rule that differs.
	size_t best_start = 0, best_len = 0;
	for (size_t start = 0; start < k.size(); start++) {
		size_t n = 0;
		while (n < f.size() && start + n < k.size() && f[n] == k[start + n])
			n++;
		if (n == f.size()) {
			r.match = true;
			if (k.size() == f.size())
				r.detail = "all " + std::to_string(f.size()) + " rules match";
			else
				r.detail = "all " + std::to_string(f.size()) +
					   " rules match, from kernel rule " +
					   std::to_string(start + 1) + " of " +
					   std::to_string(k.size());
			return r;
		}
		if (n > best_len) {
			best_len = n;
			best_start = start;
		}
	}
	if (best_len == 0) {
		r.detail =
		    "rule 1 of the file (\"" + file_lines[0] + "\") is not in the kernel's policy";
		return r;
	}
	size_t i = best_len;
	if (best_start + i >= k.size())
		r.detail = "rule " + std::to_string(i + 1) + " of the file (\"" + file_lines[i] +
			   "\") is missing from the kernel's policy";
	else
		r.detail = "rule " + std::to_string(i + 1) + " of the file (\"" + file_lines[i] +
			   "\") was read back as \"" + kernel_lines[best_start + i] + "\"";
	return r;
}

} // namespace imainit
