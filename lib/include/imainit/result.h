// Errors as values: every fallible call returns Result<T> or Status.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace imainit {

struct Error {
	int err = 0;     // errno value, 0 when the failure is not a system error
	std::string msg; // what failed, with the object it failed on

	// msg, followed by ": <strerror(err)>" when err is set.
	std::string what() const
	{
		if (err == 0)
			return msg;
		return msg + ": " + std::strerror(err);
	}
};

template <class T> using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(std::string msg, int err = 0)
{
	return std::unexpected(Error{err, std::move(msg)});
}

// Captures errno at the call site; call it right after the failing syscall.
inline std::unexpected<Error> fail_errno(std::string msg)
{
	int e = errno;
	return std::unexpected(Error{e, std::move(msg)});
}

// Prefixes context to an error travelling up: "loading policy: <inner>".
inline std::unexpected<Error> wrap(const Error &inner, const std::string &context)
{
	return std::unexpected(Error{inner.err, context + ": " + inner.msg});
}

} // namespace imainit
