#include "imainit/policy.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

// Mirrors kernel 6.1: ima_parse_add_rule() (comments, blank lines),
// ima_parse_rule() (tokens, values, duplicates, order-dependent options) and
// ima_validate_rule() (what each action and func allows), plus the file
// reader ima_read_policy() that /init triggers by writing the policy's path.
// Assumes a kernel with CONFIG_IMA_APPRAISE_MODSIG and
// CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS (both default on with IMA appraisal and
// asymmetric keys); without them the kernel also rejects imasig|modsig,
// appraise_flag=, func=KEY_CHECK and keyrings=.

namespace imainit
{

namespace
{

// Rule flags, bit for bit as ima_policy.c and integrity.h define them, so the
// per-func masks below read like ima_validate_rule().
enum : uint32_t {
	F_FUNC = 0x0001,
	F_MASK = 0x0002,
	F_FSMAGIC = 0x0004,
	F_UID = 0x0008,
	F_FOWNER = 0x0010,
	F_FSUUID = 0x0020,
	F_INMASK = 0x0040,
	F_EUID = 0x0080,
	F_PCR = 0x0100,
	F_FSNAME = 0x0200,
	F_KEYRINGS = 0x0400,
	F_LABEL = 0x0800,
	F_VALIDATE_ALGOS = 0x1000,
	F_GID = 0x2000,
	F_EGID = 0x4000,
	F_FGROUP = 0x8000,
	F_DIGSIG = 0x01000000,
	F_DIRECTIO = 0x02000000,
	F_MODSIG = 0x20000000,
	F_BLACKLIST = 0x40000000,
	F_VERITY = 0x80000000,
};

// Conditions that narrow which files a rule matches (LSM labels aside).
constexpr uint32_t condition_flags = F_MASK | F_INMASK | F_FSMAGIC | F_FSNAME | F_FSUUID | F_UID |
				     F_EUID | F_GID | F_EGID | F_FOWNER | F_FGROUP;

enum Action : int {
	no_action = 0,
	measure = 0x0001,
	dont_measure = 0x0002,
	appraise = 0x0004,
	dont_appraise = 0x0008,
	audit = 0x0040,
	hash = 0x0100,
	dont_hash = 0x0200,
};

enum class Func {
	none,
	file,
	mmap,
	bprm,
	creds,
	module,
	firmware,
	kexec_kernel,
	kexec_initramfs,
	policy,
	kexec_cmdline,
	key,
	critical_data,
	setxattr,
};

constexpr uint32_t file_func_flags = F_FUNC | F_MASK | F_FSMAGIC | F_UID | F_FOWNER | F_FSUUID |
				     F_INMASK | F_EUID | F_PCR | F_FSNAME | F_GID | F_EGID |
				     F_FGROUP | F_DIGSIG | F_DIRECTIO | F_VALIDATE_ALGOS | F_VERITY;
constexpr uint32_t kexec_func_flags = F_FUNC | F_MASK | F_FSMAGIC | F_UID | F_FOWNER | F_FSUUID |
				      F_INMASK | F_EUID | F_PCR | F_FSNAME | F_GID | F_EGID |
				      F_FGROUP | F_DIGSIG | F_DIRECTIO | F_MODSIG | F_BLACKLIST |
				      F_VALIDATE_ALGOS;

struct FuncInfo {
	Func func;
	std::string_view name; // canonical spelling, for messages
	uint32_t allowed;      // flags ima_validate_rule() accepts with it
	int actions;	       // 0: any action
	bool lsm_allowed;
};

constexpr FuncInfo func_infos[] = {
	{ Func::none, "", file_func_flags, 0, true },
	{ Func::file, "FILE_CHECK", file_func_flags, 0, true },
	{ Func::mmap, "MMAP_CHECK", file_func_flags, 0, true },
	{ Func::bprm, "BPRM_CHECK", file_func_flags, 0, true },
	{ Func::creds, "CREDS_CHECK", file_func_flags, 0, true },
	{ Func::module, "MODULE_CHECK", kexec_func_flags, 0, true },
	{ Func::firmware, "FIRMWARE_CHECK", file_func_flags, 0, true },
	{ Func::kexec_kernel, "KEXEC_KERNEL_CHECK", kexec_func_flags, 0, true },
	{ Func::kexec_initramfs, "KEXEC_INITRAMFS_CHECK", kexec_func_flags, 0, true },
	{ Func::policy, "POLICY_CHECK", file_func_flags, 0, true },
	{ Func::kexec_cmdline, "KEXEC_CMDLINE",
	  F_FUNC | F_FSMAGIC | F_UID | F_FOWNER | F_FSUUID | F_EUID | F_PCR | F_FSNAME | F_GID |
	      F_EGID | F_FGROUP,
	  measure | dont_measure, true },
	{ Func::key, "KEY_CHECK", F_FUNC | F_UID | F_GID | F_PCR | F_KEYRINGS,
	  measure | dont_measure, false },
	{ Func::critical_data, "CRITICAL_DATA", F_FUNC | F_UID | F_GID | F_PCR | F_LABEL,
	  measure | dont_measure, false },
	{ Func::setxattr, "SETXATTR_CHECK", F_FUNC | F_VALIDATE_ALGOS, appraise, true },
};

const FuncInfo &func_info(Func f)
{
	return func_infos[static_cast<size_t>(f)];
}

struct FuncName {
	std::string_view name;
	Func func;
};

// The spellings ima_parse_rule() accepts, aliases included. 6.1 has no
// MMAP_CHECK_REQPROT (added in 6.3).
constexpr FuncName func_names[] = {
	{ "FILE_CHECK", Func::file },
	{ "PATH_CHECK", Func::file },
	{ "MODULE_CHECK", Func::module },
	{ "FIRMWARE_CHECK", Func::firmware },
	{ "FILE_MMAP", Func::mmap },
	{ "MMAP_CHECK", Func::mmap },
	{ "BPRM_CHECK", Func::bprm },
	{ "CREDS_CHECK", Func::creds },
	{ "KEXEC_KERNEL_CHECK", Func::kexec_kernel },
	{ "KEXEC_INITRAMFS_CHECK", Func::kexec_initramfs },
	{ "POLICY_CHECK", Func::policy },
	{ "KEXEC_CMDLINE", Func::kexec_cmdline },
	{ "KEY_CHECK", Func::key },
	{ "CRITICAL_DATA", Func::critical_data },
	{ "SETXATTR_CHECK", Func::setxattr },
};

enum class Opt {
	action,
	lsm,
	func,
	mask,
	fsmagic,
	fsname,
	fsuuid,
	uid,
	euid,
	gid,
	egid,
	fowner,
	fgroup,
	digest_type,
	appraise_type,
	appraise_flag,
	appraise_algos,
	permit_directio,
	pcr,
	template_,
	keyrings,
	label,
};

struct OptInfo {
	std::string_view key;
	Opt opt;
	int arg;      // the action, or the LSM slot
	bool value;   // "key=value" rather than a bare keyword
	bool ordered; // also "key<value" and "key>value"
};

// policy_tokens[] of ima_policy.c.
constexpr OptInfo opt_infos[] = {
	{ "measure", Opt::action, measure, false, false },
	{ "dont_measure", Opt::action, dont_measure, false, false },
	{ "appraise", Opt::action, appraise, false, false },
	{ "dont_appraise", Opt::action, dont_appraise, false, false },
	{ "audit", Opt::action, audit, false, false },
	{ "hash", Opt::action, hash, false, false },
	{ "dont_hash", Opt::action, dont_hash, false, false },
	{ "obj_user", Opt::lsm, 0, true, false },
	{ "obj_role", Opt::lsm, 1, true, false },
	{ "obj_type", Opt::lsm, 2, true, false },
	{ "subj_user", Opt::lsm, 3, true, false },
	{ "subj_role", Opt::lsm, 4, true, false },
	{ "subj_type", Opt::lsm, 5, true, false },
	{ "func", Opt::func, 0, true, false },
	{ "mask", Opt::mask, 0, true, false },
	{ "fsmagic", Opt::fsmagic, 0, true, false },
	{ "fsname", Opt::fsname, 0, true, false },
	{ "fsuuid", Opt::fsuuid, 0, true, false },
	{ "uid", Opt::uid, 0, true, true },
	{ "euid", Opt::euid, 0, true, true },
	{ "gid", Opt::gid, 0, true, true },
	{ "egid", Opt::egid, 0, true, true },
	{ "fowner", Opt::fowner, 0, true, true },
	{ "fgroup", Opt::fgroup, 0, true, true },
	{ "digest_type", Opt::digest_type, 0, true, false },
	{ "appraise_type", Opt::appraise_type, 0, true, false },
	{ "appraise_flag", Opt::appraise_flag, 0, true, false },
	{ "appraise_algos", Opt::appraise_algos, 0, true, false },
	{ "permit_directio", Opt::permit_directio, 0, false, false },
	{ "pcr", Opt::pcr, 0, true, false },
	{ "template", Opt::template_, 0, true, false },
	{ "keyrings", Opt::keyrings, 0, true, false },
	{ "label", Opt::label, 0, true, false },
};

// hash_algo_name[] of crypto/hash_info.c: the names appraise_algos= takes.
// The kernel also requires each to be built in (crypto_has_alg), which only
// the target kernel knows.
constexpr std::string_view hash_algo_names[] = {
	"md4",	  "md5",    "sha1",   "rmd160", "sha256",      "sha384",      "sha512",
	"sha224", "rmd128", "rmd256", "rmd320", "wp256",       "wp384",	      "wp512",
	"tgr128", "tgr160", "tgr192", "sm3",	"streebog256", "streebog512",
};

struct Template {
	std::string_view name;
	std::string_view fmt;
};

// builtin_templates[] of ima_template.c; lookup_template_desc() matches a
// rule's template= against the name or the format string.
constexpr Template templates[] = {
	{ "ima", "d|n" },
	{ "ima-ng", "d-ng|n-ng" },
	{ "ima-sig", "d-ng|n-ng|sig" },
	{ "ima-ngv2", "d-ngv2|n-ng" },
	{ "ima-sigv2", "d-ngv2|n-ng|sig" },
	{ "ima-buf", "d-ng|n-ng|buf" },
	{ "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
	{ "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

constexpr std::string_view template_fields[] = {
	"d",	  "n",	    "d-ng", "d-ngv2", "n-ng",  "sig",	     "buf",	     "d-modsig",
	"modsig", "evmsig", "iuid", "igid",   "imode", "xattrnames", "xattrlengths", "xattrvalues",
};

struct PseudoFs {
	std::string_view name; // file_system_type name, for fsname=
	unsigned long long magic;
};

// The filesystems the kernel's appraise_tcb policy (default_appraise_rules)
// excludes: their files cannot carry security.ima.
constexpr PseudoFs pseudo_fs[] = {
	{ "proc", 0x9fa0 },
	{ "sysfs", 0x62656572 },
	{ "debugfs", 0x64626720 },
	{ "tmpfs", 0x01021994 },
	{ "ramfs", 0x858458f6 },
	{ "devpts", 0x1cd1 },
	{ "binfmt_misc", 0x42494e4d },
	{ "securityfs", 0x73636673 },
	{ "selinuxfs", 0xf97cff8c },
	{ "smackfs", 0x43415d53 },
	{ "nsfs", 0x6e736673 },
	{ "efivarfs", 0xde5e81e4 },
	{ "cgroup", 0x27e0eb },
	{ "cgroup2", 0x63677270 },
};

constexpr std::string_view lsm_names[] = { "obj_user",	"obj_role",  "obj_type",
					   "subj_user", "subj_role", "subj_type" };

std::string quote(std::string_view s)
{
	static const char hex[] = "0123456789abcdef";
	std::string out = "'";
	for (unsigned char c : s) {
		if (c == '\r') {
			out += "\\r";
		} else if (c < 0x20 || c >= 0x7f) {
			out += "\\x";
			out += hex[c >> 4];
			out += hex[c & 0xf];
		} else {
			out += static_cast<char>(c);
		}
	}
	return out + "'";
}

// kstrtoull(): optional '+', for base 16 an optional "0x", at least one
// digit, nothing after. Overflow is an error (-ERANGE).
std::optional<unsigned long long> kstrtoull(std::string_view s, unsigned base)
{
	if (!s.empty() && s[0] == '+')
		s.remove_prefix(1);
	if (base == 16 && s.size() >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s.remove_prefix(2);
	if (s.empty())
		return std::nullopt;
	unsigned long long v = 0;
	for (char ch : s) {
		unsigned c = static_cast<unsigned char>(ch), d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return std::nullopt;
		if (d >= base)
			return std::nullopt;
		if (v > (~0ULL - d) / base)
			return std::nullopt;
		v = v * base + d;
	}
	return v;
}

// kstrtoint(s, 10): a leading '-' negates (and "-+1" is invalid).
std::optional<long long> kstrtoint(std::string_view s)
{
	bool neg = !s.empty() && s[0] == '-';
	if (neg) {
		s.remove_prefix(1);
		if (!s.empty() && s[0] == '+')
			return std::nullopt;
	}
	auto v = kstrtoull(s, 10);
	if (!v || *v > 0x7fffffffULL + (neg ? 1 : 0))
		return std::nullopt;
	return neg ? -static_cast<long long>(*v) : static_cast<long long>(*v);
}

bool is_xdigit(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

// uuid_is_valid() checks the first 36 characters only; what follows them
// is ignored by uuid_parse().
bool uuid_prefix_valid(std::string_view s)
{
	if (s.size() < 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !is_xdigit(s[i]))
			return false;
	}
	return true;
}

bool uuid_is_null(std::string_view s)
{
	for (size_t i = 0; i < 36; i++)
		if (s[i] != '-' && s[i] != '0')
			return false;
	return true;
}

// ima_alloc_rule_opt_list(): '|'-separated, no empty item.
bool opt_list_valid(std::string_view s)
{
	size_t start = 0;
	for (;;) {
		size_t bar = s.find('|', start);
		if ((bar == std::string_view::npos ? s.size() : bar) == start)
			return false;
		if (bar == std::string_view::npos)
			return true;
		start = bar + 1;
	}
}

bool is_template_field_list(std::string_view s)
{
	size_t start = 0;
	for (;;) {
		size_t bar = s.find('|', start);
		auto field = s.substr(start, bar == std::string_view::npos ? bar : bar - start);
		bool known = false;
		for (auto f : template_fields)
			known = known || f == field;
		if (!known)
			return false;
		if (bar == std::string_view::npos)
			return true;
		start = bar + 1;
	}
}

int flag_bit(uint32_t flag)
{
	return __builtin_ctz(flag);
}

struct Rule {
	unsigned line = 0;
	std::string_view text;
	int action = no_action;
	std::string_view action_tok;
	Func func = Func::none;
	std::string_view func_tok;
	uint32_t flags = 0;
	unsigned long long fsmagic = 0;
	std::string_view fsuuid;
	std::string_view fsname;
	std::string_view uid_tok, gid_tok, fowner_tok, fgroup_tok;
	std::string_view keyrings_tok, label_tok, template_tok, algos_tok;
	std::array<std::string_view, 6> lsm{};
	std::array<std::string_view, 32> flag_tok{}; // token that set each flag

	void set(uint32_t flag, std::string_view tok)
	{
		flags |= flag;
		flag_tok[flag_bit(flag)] = tok;
	}
	bool has_lsm() const
	{
		for (auto l : lsm)
			if (!l.empty())
				return true;
		return false;
	}
};

class RuleParser
{
      public:
	RuleParser(unsigned line, std::string_view text)
	{
		r.line = line;
		r.text = text;
	}

	// ima_parse_rule() + ima_validate_rule(): the first problem, as the
	// kernel stops at the first failing token.
	std::optional<std::string> parse();

	const Rule &rule() const { return r; }
	std::vector<std::string> &warnings() { return warns; }

      private:
	std::optional<std::string> token(std::string_view tok);
	std::optional<std::string> token_value(std::string_view tok);
	std::optional<std::string> option(const OptInfo &o, std::string_view tok,
					  std::string_view value);
	std::optional<std::string> id_option(Opt o, std::string_view tok, std::string_view value);
	std::optional<std::string> validate();
	std::string flag_not_allowed(uint32_t flag) const;

	Rule r;
	std::vector<std::string> warns;
};

std::string repeats(std::string_view tok, std::string_view prev)
{
	return quote(tok) + " repeats " + quote(prev) + ": the kernel takes it once per rule";
}

std::optional<std::string> RuleParser::parse()
{
	std::string_view rest = r.text;
	while (!rest.empty()) {
		size_t sep = rest.find_first_of(" \t");
		auto tok = rest.substr(0, sep);
		rest = sep == std::string_view::npos ? std::string_view{} : rest.substr(sep + 1);
		if (tok.empty())
			continue;
		if (auto err = token(tok))
			return err;
	}
	return validate();
}

std::optional<std::string> RuleParser::token(std::string_view tok)
{
	auto err = token_value(tok);
	if (tok.find('\r') == std::string_view::npos)
		return err;
	// The kernel splits rules only at newline, space and tab: a DOS line
	// ending stays in the last token, which then fails to parse or (for
	// free-form values such as fsname=) silently matches nothing.
	if (err)
		return "carriage return in " + quote(tok) +
		       ": DOS line endings are not stripped by the kernel";
	warns.push_back("carriage return in " + quote(tok) +
			" becomes part of the value (DOS line endings?)");
	return std::nullopt;
}

std::optional<std::string> RuleParser::token_value(std::string_view tok)
{
	if (tok[0] == '#')
		return quote(tok) + ": '#' starts a comment only at the beginning of a line";

	size_t pos = tok.find_first_of("=<>");
	auto key = tok.substr(0, pos);
	const OptInfo *info = nullptr;
	for (auto &o : opt_infos)
		if (o.key == key)
			info = &o;
	if (!info)
		return "unknown keyword " + quote(tok);
	if (pos == std::string_view::npos) {
		if (info->value)
			return quote(tok) + " needs a value (" + std::string(key) + "=...)";
		return option(*info, tok, {});
	}
	if (!info->value)
		return quote(key) + " takes no value: " + quote(tok);
	char op = tok[pos];
	if (op != '=' && !info->ordered)
		return "unknown keyword " + quote(tok) + " (" + std::string(key) +
		       " takes '=' only; '<' and '>' are for uid, euid, gid, egid, fowner, fgroup)";
	auto value = tok.substr(pos + 1);
	if (value.empty())
		return "missing value in " + quote(tok);
	return option(*info, tok, value);
}

std::optional<std::string> RuleParser::option(const OptInfo &o, std::string_view tok,
					      std::string_view value)
{
	switch (o.opt) {
	case Opt::action:
		if (r.action != no_action)
			return "second action " + quote(tok) + " in a rule that already has " +
			       quote(r.action_tok);
		r.action = o.arg;
		r.action_tok = tok;
		return std::nullopt;
	case Opt::lsm:
		// ima_lsm_rule_init() refuses a second condition on the same
		// label once the LSM has resolved the first.
		if (!r.lsm[o.arg].empty())
			return repeats(tok, r.lsm[o.arg]);
		r.lsm[o.arg] = tok;
		return std::nullopt;
	case Opt::func:
		if (r.func != Func::none)
			return repeats(tok, r.func_tok);
		for (auto &f : func_names) {
			if (f.name == value) {
				r.func = f.func;
				r.func_tok = tok;
				r.set(F_FUNC, tok);
				return std::nullopt;
			}
		}
		if (value == "MMAP_CHECK_REQPROT")
			return "unknown func " + quote(value) + " (added in kernel 6.3)";
		return "unknown func " + quote(value);
	case Opt::mask: {
		if (r.flags & (F_MASK | F_INMASK))
			return repeats(tok,
				       r.flag_tok[flag_bit(r.flags & F_MASK ? F_MASK : F_INMASK)]);
		auto m = value[0] == '^' ? value.substr(1) : value;
		if (m != "MAY_EXEC" && m != "MAY_WRITE" && m != "MAY_READ" && m != "MAY_APPEND")
			return "unknown mask " + quote(value) +
			       " (MAY_EXEC, MAY_WRITE, MAY_READ or MAY_APPEND, optionally with ^)";
		r.set(value[0] == '^' ? F_INMASK : F_MASK, tok);
		return std::nullopt;
	}
	case Opt::fsmagic: {
		// The kernel tests the stored value, so "fsmagic=0" may be
		// followed by another fsmagic=.
		if (r.fsmagic)
			return repeats(tok, r.flag_tok[flag_bit(F_FSMAGIC)]);
		auto v = kstrtoull(value, 16);
		if (!v)
			return "invalid fsmagic " + quote(value) + " (a hexadecimal number)";
		r.fsmagic = *v;
		r.set(F_FSMAGIC, tok);
		return std::nullopt;
	}
	case Opt::fsname:
		// No duplicate check in the kernel: the last fsname= wins.
		r.fsname = value;
		r.set(F_FSNAME, tok);
		return std::nullopt;
	case Opt::keyrings:
		if (r.flags & F_KEYRINGS)
			return repeats(tok, r.keyrings_tok);
		if (!opt_list_valid(value))
			return "empty keyring name in " + quote(tok);
		r.keyrings_tok = tok;
		r.set(F_KEYRINGS, tok);
		return std::nullopt;
	case Opt::label:
		if (r.flags & F_LABEL)
			return repeats(tok, r.label_tok);
		if (!opt_list_valid(value))
			return "empty label in " + quote(tok);
		r.label_tok = tok;
		r.set(F_LABEL, tok);
		return std::nullopt;
	case Opt::fsuuid:
		if (!r.fsuuid.empty() && !uuid_is_null(r.fsuuid))
			return repeats(tok, r.flag_tok[flag_bit(F_FSUUID)]);
		if (!uuid_prefix_valid(value))
			return "invalid fsuuid " + quote(value) +
			       " (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hexadecimal)";
		if (value.size() > 36)
			warns.push_back("fsuuid " + quote(value) + " has " +
					quote(value.substr(36)) +
					" after the UUID, which the kernel silently ignores");
		r.fsuuid = value;
		r.set(F_FSUUID, tok);
		return std::nullopt;
	case Opt::uid:
	case Opt::euid:
	case Opt::gid:
	case Opt::egid:
	case Opt::fowner:
	case Opt::fgroup:
		return id_option(o.opt, tok, value);
	case Opt::digest_type:
		if (r.flags & F_DIGSIG)
			return quote(tok) + " after " + quote(r.flag_tok[flag_bit(F_DIGSIG)]) +
			       ": the kernel wants digest_type=verity before appraise_type=";
		if (value != "verity")
			return "unknown digest_type " + quote(value) + " (only verity)";
		r.set(F_VERITY, tok);
		return std::nullopt;
	case Opt::appraise_type:
		if (value == "imasig" || value == "imasig|modsig") {
			if (r.flags & F_VERITY)
				return quote(tok) + " conflicts with " +
				       quote(r.flag_tok[flag_bit(F_VERITY)]) +
				       " (fs-verity signatures are appraise_type=sigv3)";
			r.set(F_DIGSIG, tok);
			if (value != "imasig")
				r.set(F_MODSIG, tok);
			return std::nullopt;
		}
		if (value == "sigv3") {
			if (!(r.flags & F_VERITY))
				return quote(tok) + " needs digest_type=verity before it";
			r.set(F_DIGSIG, tok);
			return std::nullopt;
		}
		return "unknown appraise_type " + quote(value) +
		       " (imasig, imasig|modsig or sigv3)";
	case Opt::appraise_flag:
		// The kernel only looks for "blacklist" in the value.
		if (value.find("blacklist") == std::string_view::npos)
			return "unknown appraise_flag " + quote(value) + " (only check_blacklist)";
		r.set(F_BLACKLIST, tok);
		return std::nullopt;
	case Opt::appraise_algos: {
		if (r.flags & F_VALIDATE_ALGOS)
			return repeats(tok, r.algos_tok);
		size_t start = 0;
		for (;;) {
			size_t comma = value.find(',', start);
			auto name = value.substr(
			    start, comma == std::string_view::npos ? comma : comma - start);
			bool known = false;
			for (auto a : hash_algo_names)
				known = known || a == name;
			if (!known)
				return "unknown hash algorithm " + quote(name) + " in " +
				       quote(tok);
			if (comma == std::string_view::npos)
				break;
			start = comma + 1;
		}
		r.algos_tok = tok;
		r.set(F_VALIDATE_ALGOS, tok);
		return std::nullopt;
	}
	case Opt::permit_directio:
		r.set(F_DIRECTIO, tok);
		return std::nullopt;
	case Opt::pcr: {
		// INVALID_PCR(): the PCR must index iint->measured_pcrs, an
		// unsigned long (64 bits on the 64-bit targets).
		auto v = kstrtoint(value);
		if (!v || *v < 0 || *v >= 64)
			return "invalid pcr " + quote(value) + " (0 to 63)";
		r.set(F_PCR, tok);
		return std::nullopt;
	}
	case Opt::template_: {
		if (r.action == no_action)
			return quote(tok) + " before the action: the kernel accepts template= only "
					    "after 'measure'";
		if (r.action != measure)
			return quote(tok) + " is only valid with 'measure', not " +
			       quote(r.action_tok);
		bool known = false;
		for (auto &t : templates)
			known = known || t.name == value || t.fmt == value;
		if (!known && !is_template_field_list(value))
			return "unknown template " + quote(value);
		if (!r.template_tok.empty())
			return repeats(tok, r.template_tok);
		if (!known)
			warns.push_back("template " + quote(value) +
					" is no built-in template: the kernel accepts it only when "
					"booted with ima_template_fmt=" +
					std::string(value));
		r.template_tok = tok;
		return std::nullopt;
	}
	}
	return std::nullopt;
}

std::optional<std::string> RuleParser::id_option(Opt o, std::string_view tok,
						 std::string_view value)
{
	std::string_view *prev;
	uint32_t flag;
	const char *what;
	switch (o) {
	case Opt::uid:
	case Opt::euid:
		// uid and euid share one field of the kernel's rule.
		prev = &r.uid_tok, flag = o == Opt::uid ? F_UID : F_EUID, what = "uid";
		break;
	case Opt::gid:
	case Opt::egid:
		prev = &r.gid_tok, flag = o == Opt::gid ? F_GID : F_EGID, what = "gid";
		break;
	case Opt::fowner:
		prev = &r.fowner_tok, flag = F_FOWNER, what = "fowner";
		break;
	default:
		prev = &r.fgroup_tok, flag = F_FGROUP, what = "fgroup";
		break;
	}
	if (!prev->empty())
		return quote(tok) + " repeats " + quote(*prev) + ": the kernel takes one " + what +
		       (flag == F_FOWNER || flag == F_FGROUP ? "" : " or e" + std::string(what)) +
		       " condition per rule";
	auto v = kstrtoull(value, 10);
	// make_kuid()/make_kgid(): -1 is the invalid id.
	if (!v || *v >= 0xffffffffULL)
		return "invalid " + std::string(what) + " " + quote(value) +
		       " (a decimal id below 4294967295)";
	*prev = tok;
	r.set(flag, tok);
	return std::nullopt;
}

std::string RuleParser::flag_not_allowed(uint32_t flag) const
{
	auto tok = quote(r.flag_tok[flag_bit(flag)]);
	std::vector<std::string_view> funcs;
	for (auto &f : func_infos)
		if (f.allowed & flag)
			funcs.push_back(f.func == Func::none ? "no func" : f.name);
	if (funcs.size() <= 3) {
		std::string list;
		for (size_t i = 0; i < funcs.size(); i++)
			list += (i == 0			 ? ""
				 : i + 1 == funcs.size() ? " or "
							 : ", ") +
				("func=" + std::string(funcs[i]));
		return tok + " is only valid with " + list;
	}
	if (r.func == Func::none)
		return tok + " is not valid in a rule without func=";
	return tok + " is not valid with " + quote(r.func_tok);
}

std::optional<std::string> RuleParser::validate()
{
	if (r.action == no_action)
		return std::string("rule has no action (measure, dont_measure, appraise, "
				   "dont_appraise, audit, hash or dont_hash)");
	if (r.action != measure && (r.flags & F_PCR))
		return quote(r.flag_tok[flag_bit(F_PCR)]) + " is only valid with 'measure', not " +
		       quote(r.action_tok);
	for (uint32_t f : { F_DIGSIG, F_MODSIG, F_BLACKLIST, F_VALIDATE_ALGOS })
		if (r.action != appraise && (r.flags & f))
			return quote(r.flag_tok[flag_bit(f)]) +
			       " is only valid with 'appraise', not " + quote(r.action_tok);

	auto &fi = func_info(r.func);
	if (fi.actions && !(r.action & fi.actions))
		return quote(r.func_tok) + " is not valid with " + quote(r.action_tok) + " (only " +
		       (fi.actions == appraise ? "appraise" : "measure or dont_measure") + ")";
	if (r.func == Func::setxattr && !(r.flags & F_VALIDATE_ALGOS))
		return quote(r.func_tok) + " needs appraise_algos=";
	if (uint32_t bad = r.flags & ~fi.allowed)
		return flag_not_allowed(bad & (~bad + 1));
	if (!fi.lsm_allowed)
		for (auto l : r.lsm)
			if (!l.empty())
				return quote(l) + " is not valid with " + quote(r.func_tok);

	if ((r.flags & F_BLACKLIST) && !(r.flags & F_MODSIG))
		return quote(r.flag_tok[flag_bit(F_BLACKLIST)]) +
		       " needs appraise_type=imasig|modsig (the blacklist applies to appended "
		       "signatures)";
	if (r.action == appraise && (r.flags & F_VERITY) && !(r.flags & F_DIGSIG))
		return "appraise with " + quote(r.flag_tok[flag_bit(F_VERITY)]) +
		       " needs appraise_type=sigv3 (fs-verity digests must be signed)";

	for (size_t i = 0; i < r.lsm.size(); i++)
		if (!r.lsm[i].empty())
			warns.push_back(
			    quote(r.lsm[i]) +
			    " needs the LSM to know the label when the policy is loaded: as the "
			    "first policy loaded from the initramfs (before SELinux loads its "
			    "policy, or without that LSM) the kernel rejects the whole policy");
	return std::nullopt;
}

bool excludes(const Rule &excl, const PseudoFs &fs, Func func)
{
	if (excl.action != dont_appraise || excl.has_lsm())
		return false;
	if (excl.flags & ~(F_FUNC | F_FSMAGIC | F_FSNAME))
		return false;
	if (excl.func != Func::none && excl.func != func)
		return false;
	if (!(excl.flags & (F_FSMAGIC | F_FSNAME)))
		return false;
	if ((excl.flags & F_FSMAGIC) && excl.fsmagic != fs.magic)
		return false;
	if ((excl.flags & F_FSNAME) && excl.fsname != fs.name)
		return false;
	return true;
}

bool is_file_func(Func f)
{
	return f == Func::none || f == Func::file || f == Func::mmap || f == Func::bprm ||
	       f == Func::creds;
}

// Hooks where a missing signature must stop the load: an exclusion before
// them silently exempts files (e.g. the tmpfs /init extracts to).
bool is_signature_func(Func f)
{
	return f == Func::policy || f == Func::module || f == Func::firmware ||
	       f == Func::kexec_kernel || f == Func::kexec_initramfs;
}

std::string hex(unsigned long long v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%llx", v);
	return buf;
}

void check_policy(const std::vector<Rule> &rules, const LintOptions &opts,
		  std::vector<LintIssue> &issues)
{
	auto warn = [&](unsigned line, std::string msg) {
		issues.push_back({ line, LintIssue::Severity::warning, std::move(msg) });
	};

	for (size_t i = 0; i < rules.size(); i++) {
		auto &r = rules[i];
		if (r.action != appraise)
			continue;

		if (is_file_func(r.func) && !(r.flags & (F_FSMAGIC | F_FSNAME | F_FSUUID))) {
			std::string missing, example;
			for (auto &fs : pseudo_fs) {
				bool excluded = false;
				for (size_t j = 0; j < i && !excluded; j++)
					excluded = excludes(rules[j], fs, r.func);
				if (excluded)
					continue;
				missing += (missing.empty() ? "" : ", ") + std::string(fs.name);
				if (example.empty())
					example = "dont_appraise fsmagic=" + hex(fs.magic);
			}
			if (!missing.empty())
				warn(r.line,
				     "appraise rule without fsmagic=/fsname= is not preceded by "
				     "dont_appraise rules for " +
					 missing +
					 ": files there carry no security.ima, so access to them "
					 "is denied and the boot breaks (add e.g. '" +
					 example +
					 "' before it, as the kernel's appraise_tcb does)");
		}

		if (is_signature_func(r.func) && (r.flags & F_DIGSIG)) {
			for (size_t j = 0; j < i; j++) {
				auto &e = rules[j];
				bool weaker = e.action == dont_appraise ||
					      (e.action == appraise && !(e.flags & F_DIGSIG));
				if (!weaker || (e.func != Func::none && e.func != r.func))
					continue;
				warn(r.line,
				     "signature rule for " + quote(r.func_tok) +
					 " comes after line " + std::to_string(e.line) + " (" +
					 quote(e.text) +
					 "): IMA applies the first matching appraise rule, so "
					 "files matched there load without a signature check; "
					 "put signature rules first");
				break;
			}
		}
	}

	if (opts.expect_signed_policy) {
		bool found = false;
		for (auto &r : rules)
			found = found || (r.action == appraise && r.func == Func::policy &&
					  (r.flags & F_DIGSIG) && !(r.flags & condition_flags) &&
					  !r.has_lsm());
		if (!found)
			warn(0,
			     "no 'appraise func=POLICY_CHECK appraise_type=imasig' rule without "
			     "further conditions: once this policy is active, the kernel accepts "
			     "unsigned policy updates (unless built with "
			     "CONFIG_IMA_APPRAISE_REQUIRE_POLICY_SIGS)");
	}
}

} // namespace

std::vector<LintIssue> lint_policy(std::string_view text, const LintOptions &opts)
{
	std::vector<LintIssue> issues;
	std::vector<Rule> rules;
	auto error = [&](unsigned line, std::string msg) {
		issues.push_back({ line, LintIssue::Severity::error, std::move(msg) });
	};

	unsigned lineno = 0;
	bool any_rule = false;
	size_t pos = 0;
	while (pos < text.size()) {
		size_t nl = text.find('\n', pos);
		auto line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
		pos = nl == std::string_view::npos ? text.size() : nl + 1;
		lineno++;

		if (line.find('\0') != std::string_view::npos) {
			any_rule = true;
			error(lineno,
			      "NUL byte: the kernel's policy reader stops there and rejects "
			      "the whole policy");
			continue;
		}
		if (nl == std::string_view::npos)
			// ima_read_policy() accounts strlen(line) + 1 bytes per
			// line and fails the load when that overshoots the file.
			error(lineno, "last line does not end with a newline: the kernel rejects "
				      "the whole policy when it is loaded from a file");

		// ima_parse_add_rule(): leading spaces and tabs are skipped,
		// then '#' or the end make the line a comment or blank.
		auto start = line.find_first_not_of(" \t");
		if (start == std::string_view::npos || line[start] == '#')
			continue;
		any_rule = true;

		RuleParser p(lineno, line.substr(start));
		if (auto err = p.parse()) {
			error(lineno, std::move(*err));
			continue;
		}
		for (auto &w : p.warnings())
			issues.push_back({ lineno, LintIssue::Severity::warning, std::move(w) });
		rules.push_back(p.rule());
	}

	if (!any_rule)
		error(0, "policy has no rules: the kernel rejects an empty policy");

	check_policy(rules, opts, issues);
	// Whole-policy findings (line 0) go last.
	std::stable_sort(issues.begin(), issues.end(), [](const LintIssue &a, const LintIssue &b) {
		return (a.line ? a.line : UINT_MAX) < (b.line ? b.line : UINT_MAX);
	});
	return issues;
}

} // namespace imainit
