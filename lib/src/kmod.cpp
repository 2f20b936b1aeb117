// depmod's index files, dependency resolution and module files as the
// kernel loads them. Distribution kernels compress modules for kmod to
// decompress in userspace and often lack CONFIG_MODULE_DECOMPRESS (Debian's
// 6.1 does); and IMA appraises the bytes finit_module() reads. So modules
// are decompressed at pack time and signed as the kernel will read them.
#include "imainit/kmod.h"

#include "imainit/cpio.h"

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <lzma.h>
#include <optional>

namespace imainit
{

namespace
{

constexpr std::string_view compressed_suffixes[] = { ".gz", ".xz", ".zst" };

std::string_view trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
		s.remove_suffix(1);
	return s;
}

std::vector<std::string_view> words(std::string_view s)
{
	std::vector<std::string_view> v;
	size_t i = 0;
	while (i < s.size()) {
		while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		size_t j = i;
		while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r')
			j++;
		if (j > i)
			v.push_back(s.substr(i, j - i));
		i = j;
	}
	return v;
}

// Calls fn(line_number, line) for each line of text.
template <class Fn> auto for_each_line(std::string_view text, Fn fn) -> decltype(fn(0u, text))
{
	unsigned n = 0;
	while (!text.empty()) {
		n++;
		size_t nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
		if (auto r = fn(n, line); !r)
			return r;
	}
	return {};
}

std::string normalise(std::string_view name)
{
	std::string s(name);
	std::replace(s.begin(), s.end(), '-', '_');
	return s;
}

std::string_view strip_compression(std::string_view path)
{
	for (auto z : compressed_suffixes)
		if (path.ends_with(std::string(".ko") + std::string(z)))
			return path.substr(0, path.size() - z.size());
	return path;
}

// liblzma with any integrity check: at pack time CRC64 and SHA-256 are as
// good as the CRC32 that the kernel's own decoder is limited to.
Result<Decompressed> xz_module(std::span<const uint8_t> in)
{
	lzma_stream s = LZMA_STREAM_INIT;
	struct End {
		lzma_stream *s;
		~End() { lzma_end(s); }
	} end{ &s };
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
		return fail("xz: cannot set up the decoder");
	Decompressed d;
	d.data.resize(std::max<size_t>(in.size() * 4, 4096));
	s.next_in = in.data();
	s.avail_in = in.size();
	for (;;) {
		if (s.total_out == d.data.size())
			d.data.resize(d.data.size() * 2);
		s.next_out = d.data.data() + s.total_out;
		s.avail_out = d.data.size() - s.total_out;
		lzma_ret rc = lzma_code(&s, LZMA_FINISH);
		if (rc == LZMA_STREAM_END)
			break;
		if (rc == LZMA_BUF_ERROR && s.avail_out != 0)
			return fail("xz: truncated stream");
		if (rc == LZMA_DATA_ERROR || rc == LZMA_FORMAT_ERROR)
			return fail("xz: corrupt stream");
		if (rc != LZMA_OK && rc != LZMA_BUF_ERROR)
			return fail("xz: decoding failed (liblzma error " + std::to_string(rc) +
				    ")");
	}
	d.data.resize(s.total_out);
	d.consumed = s.total_in;
	return d;
}

bool starts_with(std::span<const uint8_t> data, std::initializer_list<uint8_t> magic)
{
	return data.size() >= magic.size() && std::equal(magic.begin(), magic.end(), data.begin());
}

std::string join(const std::set<std::string> &s, std::string_view sep)
{
	std::string out;
	for (auto &x : s) {
		if (!out.empty())
			out += sep;
		out += x;
	}
	return out;
}

} // namespace

bool is_module_file_name(std::string_view path)
{
	return strip_compression(path).ends_with(".ko");
}

std::string module_name(std::string_view path)
{
	std::string_view s = strip_compression(path);
	if (s.ends_with(".ko"))
		s.remove_suffix(3);
	auto slash = s.rfind('/');
	if (slash != std::string_view::npos)
		s.remove_prefix(slash + 1);
	return normalise(s);
}

std::string uncompressed_module_file_name(std::string_view path)
{
	return std::string(strip_compression(path));
}

Result<std::map<std::string, ModuleDepEntry>> parse_modules_dep(std::string_view text)
{
	std::map<std::string, ModuleDepEntry> out;
	auto r = for_each_line(text, [&](unsigned n, std::string_view line) -> Status {
		line = trim(line);
		if (line.empty() || line.front() == '#')
			return {};
		std::string where = "modules.dep:" + std::to_string(n);
		size_t colon = line.find(':');
		if (colon == std::string_view::npos)
			return fail(where + ": no ':' after the module path");
		std::string_view path = trim(line.substr(0, colon));
		if (!is_module_file_name(path))
			return fail(where + ": '" + std::string(path) + "' is not a module file");
		ModuleDepEntry e;
		e.path = path;
		for (auto w : words(line.substr(colon + 1))) {
			if (!is_module_file_name(w))
				return fail(where + ": dependency '" + std::string(w) +
					    "' is not a module file");
			e.deps.push_back(module_name(w));
		}
		std::string name = module_name(path);
		auto [it, fresh] = out.emplace(name, std::move(e));
		if (!fresh)
			return fail(where + ": module " + name + " is listed twice (" +
				    it->second.path + " and " + std::string(path) + ")");
		return {};
	});
	if (!r)
		return std::unexpected(r.error());
	return out;
}

std::set<std::string> parse_modules_builtin(std::string_view text)
{
	std::set<std::string> out;
	(void)for_each_line(text, [&](unsigned, std::string_view line) -> Status {
		line = trim(line);
		if (!line.empty() && line.front() != '#')
			out.insert(module_name(line));
		return {};
	});
	return out;
}

std::map<std::string, std::set<std::string>> parse_modules_alias(std::string_view text)
{
	std::map<std::string, std::set<std::string>> out;
	(void)for_each_line(text, [&](unsigned, std::string_view line) -> Status {
		auto w = words(line);
		if (w.size() == 3 && w[0] == "alias" &&
		    w[1].find_first_of("*?[") == std::string_view::npos)
			out[std::string(w[1])].insert(normalise(w[2]));
		return {};
	});
	return out;
}

std::map<std::string, ModuleSoftdep> parse_modules_softdep(std::string_view text)
{
	// As kmod reads it: a word before "pre:" or "post:" is ignored (depmod
	// writes such lines for MODULE_SOFTDEP("gcm"), e.g. Debian's cifs).
	std::map<std::string, ModuleSoftdep> out;
	(void)for_each_line(text, [&](unsigned, std::string_view line) -> Status {
		auto w = words(line);
		if (w.size() < 2 || w[0] != "softdep")
			return {};
		auto &sd = out[normalise(w[1])];
		std::vector<std::string> *list = nullptr;
		for (size_t i = 2; i < w.size(); i++) {
			if (w[i] == "pre:")
				list = &sd.pre;
			else if (w[i] == "post:")
				list = &sd.post;
			else if (list)
				list->push_back(std::string(w[i]));
		}
		return {};
	});
	return out;
}

Result<ModuleIndex> load_module_index(const std::string &dir)
{
	ModuleIndex idx;
	idx.dir = dir;
	constexpr size_t cap = 64 << 20;
	auto dep = read_file(dir + "/modules.dep", cap);
	if (!dep) {
		if (dep.error().err != ENOENT)
			return std::unexpected(dep.error());
		// "<base>/lib/modules/<version>": say the exact command.
		std::string d = dir;
		while (d.size() > 1 && d.back() == '/')
			d.pop_back();
		std::string hint = "depmod -b BASE VERSION for a tree at BASE/lib/modules/VERSION";
		auto slash = d.rfind('/');
		if (slash != std::string::npos) {
			std::string version = d.substr(slash + 1);
			std::string parent = d.substr(0, slash);
			std::string base;
			if (parent == "lib/modules")
				base = ".";
			else if (parent.ends_with("/lib/modules"))
				base = parent.size() == 12 ? "/"
							   : parent.substr(0, parent.size() - 12);
			if (!base.empty())
				hint = "depmod -b " + base + " " + version;
		}
		return fail(dir +
			    "/modules.dep is missing (a kernel package unpacked with dpkg -x "
			    "has none until depmod runs): run " +
			    hint);
	}
	auto modules = parse_modules_dep(
	    std::string_view(reinterpret_cast<const char *>(dep->data()), dep->size()));
	if (!modules)
		return wrap(modules.error(), dir);
	idx.modules = std::move(*modules);

	auto optional_text = [&](const char *name) -> Result<std::optional<std::string>> {
		auto f = read_file(dir + "/" + name, cap);
		if (!f) {
			if (f.error().err == ENOENT)
				return std::optional<std::string>();
			return std::unexpected(f.error());
		}
		return std::optional<std::string>(std::string(f->begin(), f->end()));
	};
	auto builtin = optional_text("modules.builtin");
	if (!builtin)
		return std::unexpected(builtin.error());
	if (*builtin)
		idx.builtin = parse_modules_builtin(**builtin);
	auto alias = optional_text("modules.alias");
	if (!alias)
		return std::unexpected(alias.error());
	if (*alias)
		idx.aliases = parse_modules_alias(**alias);
	auto softdep = optional_text("modules.softdep");
	if (!softdep)
		return std::unexpected(softdep.error());
	if (*softdep)
		idx.softdeps = parse_modules_softdep(**softdep);
	return idx;
}

Result<ModuleResolution> resolve_modules(const ModuleIndex &index,
					 std::span<const ModuleRequest> requests)
{
	ModuleResolution res;
	std::map<std::string, size_t> placed; // name -> index in res.modules
	std::vector<std::string> chain;	      // the path being visited, for cycles

	// visit() appends name after everything it depends on.
	auto visit = [&](auto &self, const std::string &name, size_t request,
			 const std::string &needed_by) -> Status {
		if (placed.count(name))
			return {};
		auto it = index.modules.find(name);
		if (it == index.modules.end()) {
			if (needed_by.empty())
				return fail("no module " + name + " in " + index.dir +
					    " (neither in modules.dep nor in modules.builtin)");
			return fail("missing dependency: " + needed_by + " needs " + name +
				    ", but modules.dep has no entry for " + name +
				    " (regenerate it with depmod)");
		}
		if (std::find(chain.begin(), chain.end(), name) != chain.end()) {
			std::string c;
			for (auto &m : chain)
				c += m + " -> ";
			return fail("dependency cycle in modules.dep: " + c + name);
		}
		chain.push_back(name);
		// modprobe loads the dependencies of a modules.dep line from the
		// last to the first; follow it, for the same order.
		auto &deps = it->second.deps;
		for (auto d = deps.rbegin(); d != deps.rend(); ++d)
			if (auto r = self(self, *d, request, name); !r)
				return r;
		chain.pop_back();
		placed[name] = res.modules.size();
		res.modules.push_back(
		    ResolvedModule{ name, it->second.path, true, request, needed_by });
		return {};
	};

	for (size_t i = 0; i < requests.size(); i++) {
		std::string name = normalise(requests[i].name);
		if (name.empty() || name.find('/') != std::string::npos)
			return fail("'" + requests[i].name + "' is not a module name");
		if (!index.modules.count(name) && index.builtin.count(name)) {
			res.notes.push_back(name + " is built into the kernel: nothing to load");
			continue;
		}
		if (auto r = visit(visit, name, i, ""); !r)
			return std::unexpected(r.error());
	}

	// A module is required when a required request reaches it.
	auto require = [&](auto &self, const std::string &name) -> void {
		auto p = placed.find(name);
		if (p == placed.end() || !res.modules[p->second].optional)
			return;
		res.modules[p->second].optional = false;
		for (auto &d : index.modules.at(name).deps)
			self(self, d);
	};
	for (auto &r : requests)
		if (!r.optional)
			require(require, normalise(r.name));

	// Soft dependencies are for modprobe to honour, not the kernel; say
	// when one is left out (ext4 works only once some crc32c is loaded).
	auto provided = [&](const std::string &what) {
		std::string n = normalise(what);
		if (placed.count(n) || index.builtin.count(n))
			return true;
		auto a = index.aliases.find(what);
		if (a == index.aliases.end())
			return false;
		return std::any_of(a->second.begin(), a->second.end(), [&](const std::string &m) {
			return placed.count(m) || index.builtin.count(m);
		});
	};
	for (auto &m : res.modules) {
		auto sd = index.softdeps.find(m.name);
		if (sd == index.softdeps.end())
			continue;
		for (auto *list : { &sd->second.pre, &sd->second.post }) {
			for (auto &what : *list) {
				if (provided(what))
					continue;
				auto a = index.aliases.find(what);
				std::string by =
				    a == index.aliases.end()
					? ""
					: " (provided by " + join(a->second, " or ") + ")";
				res.notes.push_back(m.name + " has a soft dependency on " + what +
						    by +
						    " that is not in the payload; add it if the "
						    "kernel needs it before the root is mounted");
			}
		}
	}
	return res;
}

Result<Bytes> module_image(std::span<const uint8_t> file, std::string_view name)
{
	std::string n(name);
	Bytes image;
	if (strip_compression(name) != name) {
		Result<Decompressed> d = fail("");
		if (name.ends_with(".xz")) {
			if (!starts_with(file, { 0xfd, '7', 'z', 'X', 'Z', 0x00 }))
				return fail(n + ": not xz data");
			d = xz_module(file);
		} else if (name.ends_with(".gz")) {
			if (!starts_with(file, { 0x1f, 0x8b }))
				return fail(n + ": not gzip data");
			d = decompress_stream(file);
		} else {
			if (!starts_with(file, { 0x28, 0xb5, 0x2f, 0xfd }))
				return fail(n + ": not zstd data");
			d = decompress_stream(file);
		}
		if (!d)
			return wrap(d.error(), n);
		if (d->consumed != file.size())
			return fail(n + ": " + std::to_string(file.size() - d->consumed) +
				    " bytes of trailing data after the compressed module");
		image = std::move(d->data);
	} else {
		image.assign(file.begin(), file.end());
	}
	if (image.size() < sizeof(Elf64_Ehdr) || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0)
		return fail(n + ": not an ELF object, so not a kernel module");
	if (image[EI_CLASS] != ELFCLASS64 && image[EI_CLASS] != ELFCLASS32)
		return fail(n + ": unknown ELF class");
	return image;
}

} // namespace imainit
