// Kernel modules from a /lib/modules/<version> tree as depmod describes it
// (modules.dep, modules.builtin, modules.alias, modules.softdep): which
// files a module needs, in the order the kernel can load them, and each
// file as the kernel will read it through finit_module().
#pragma once

#include "imainit/io.h"
#include "imainit/result.h"

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imainit
{

// .ko, .ko.gz, .ko.xz or .ko.zst at the end of path.
bool is_module_file_name(std::string_view path);

// The name the kernel gives the module in a file: no directory, no
// .ko[.gz|.xz|.zst], '-' read as '_' (crc32c-intel.ko is crc32c_intel), as
// modprobe compares them.
std::string module_name(std::string_view path);

// path without its compression suffix: what a decompressed copy is called.
std::string uncompressed_module_file_name(std::string_view path);

struct ModuleDepEntry {
	std::string path;	       // as modules.dep gives it (relative to the tree)
	std::vector<std::string> deps; // names, as modules.dep lists them
};

struct ModuleSoftdep {
	std::vector<std::string> pre, post; // module names or aliases
};

struct ModuleIndex {
	std::string dir;				      // the tree: /lib/modules/<version>
	std::map<std::string, ModuleDepEntry> modules;	      // by name
	std::set<std::string> builtin;			      // names of built-in modules
	std::map<std::string, std::set<std::string>> aliases; // exact alias -> names
	std::map<std::string, ModuleSoftdep> softdeps;	      // by name
};

// "path: dep-path dep-path ..." lines; a module named twice, or a line
// without ':', fails naming the line.
Result<std::map<std::string, ModuleDepEntry>> parse_modules_dep(std::string_view text);
// One path per line.
std::set<std::string> parse_modules_builtin(std::string_view text);
// "alias PATTERN NAME" lines; patterns with wildcards are left out (only an
// exact name can satisfy a soft dependency).
std::map<std::string, std::set<std::string>> parse_modules_alias(std::string_view text);
// "softdep NAME pre: A B post: C" lines; anything else is ignored, as
// modprobe ignores it.
std::map<std::string, ModuleSoftdep> parse_modules_softdep(std::string_view text);

// Reads the index files of dir. modules.dep is required (a tree unpacked
// from a package has none until depmod runs: the error says how to make
// it); the others are optional and, like modprobe, read leniently.
Result<ModuleIndex> load_module_index(const std::string &dir);

struct ModuleRequest {
	std::string name; // '-' and '_' alike
	bool optional = false;
};

struct ResolvedModule {
	std::string name;
	std::string path;      // relative to the tree, as modules.dep gives it
	bool optional = false; // only optional requests need it
	size_t request = 0;    // index of the first request that needs it
	std::string needed_by; // the module that first needed it; empty when requested
};

struct ModuleResolution {
	std::vector<ResolvedModule> modules; // load order: every dependency first
	std::vector<std::string> notes;	     // built-in requests, unmet soft dependencies
};

// The requested modules and everything they depend on, each once, in an
// order the kernel can load them. An unknown name, a dependency that
// modules.dep names but does not describe, or a cycle fails naming it. A
// built-in module is skipped with a note. A module needed by a required
// request is required, even when an optional request needs it too.
Result<ModuleResolution> resolve_modules(const ModuleIndex &index,
					 std::span<const ModuleRequest> requests);

// The module as finit_module() must see it, from the bytes of a file named
// name: decompressed when the name says it is compressed (the signature
// modules_sign appended before compression comes out intact), and checked
// to be an ELF object.
Result<Bytes> module_image(std::span<const uint8_t> file, std::string_view name);

} // namespace imainit
