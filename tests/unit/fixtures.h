// What several unit tests share: the debug key set, scratch directories,
// shell commands.
#pragma once

#include "imainit/keys.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>

namespace fixtures
{

inline const std::string debug_dir = std::string(IMAINIT_SOURCE_DIR) + "/keys/debug";

// The error text of a failed Result; "" on success. doctest evaluates a
// _MESSAGE argument also when it reports passing checks (-s).
template <class R> std::string why(const R &r)
{
	return r ? std::string() : r.error().what();
}

// A scratch directory, removed with everything in it.
struct TempDir {
	std::string path;
	TempDir()
	{
		std::string t =
		    (std::filesystem::temp_directory_path() / "imainit-test-XXXXXX").string();
		REQUIRE(mkdtemp(t.data()) != nullptr);
		path = t;
	}
	~TempDir() { std::filesystem::remove_all(path); }
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	std::string operator/(const std::string &name) const { return path + "/" + name; }
};

// Runs a shell command; returns its exit status and fills out with its
// stdout and stderr.
inline int run(const std::string &cmd, std::string *out = nullptr)
{
	FILE *p = popen((cmd + " 2>&1").c_str(), "r");
	REQUIRE(p != nullptr);
	std::string text;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		text.append(buf, n);
	int st = pclose(p);
	if (out)
		*out = text;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// A key or certificate of keys/debug, by its path there.
inline imainit::PrivateKey load_key(const std::string &rel)
{
	auto k = imainit::load_private_key(debug_dir + "/" + rel);
	REQUIRE_MESSAGE(k, why(k));
	return std::move(*k);
}

inline imainit::PublicKey load_cert(const std::string &rel)
{
	auto c = imainit::load_public_key(debug_dir + "/" + rel);
	REQUIRE_MESSAGE(c, why(c));
	return std::move(*c);
}

} // namespace fixtures
