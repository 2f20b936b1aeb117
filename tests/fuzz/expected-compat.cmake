# libstdc++ 12 offers std::expected only to compilers that report
# __cpp_concepts >= 202002L, because its special members are conditionally
# trivial (P0848: several destructors told apart by requires-clauses).
# Clang 14 implements neither, and the library returns std::expected
# everywhere. When the compiler cannot use the system <expected>, a copy of
# it is made with the destructors made unconditionally non-trivial, which
# clang 14 accepts; the semantics are the same, only triviality is lost,
# which no code here depends on. This affects the fuzzing build alone.
include(CheckCXXSourceCompiles)

set(CMAKE_REQUIRED_FLAGS "-std=c++2b")
check_cxx_source_compiles([=[
#include <expected>
#include <string>
std::expected<std::string, int> f() { return std::string("x"); }
int main() { auto a = f(); auto b = a; return b->size() == 1 ? 0 : 1; }
]=] IMAINIT_NATIVE_EXPECTED)
unset(CMAKE_REQUIRED_FLAGS)

if(NOT IMAINIT_NATIVE_EXPECTED)
  # Where the standard library's <expected> lives: ask the preprocessor.
  file(WRITE ${CMAKE_BINARY_DIR}/expected-probe.cpp "#include <expected>\n")
  execute_process(
    COMMAND ${CMAKE_CXX_COMPILER} -std=c++2b -M ${CMAKE_BINARY_DIR}/expected-probe.cpp
    OUTPUT_VARIABLE deps RESULT_VARIABLE rc)
  string(REGEX MATCH "[^ \t\n\\\\]*/c\\+\\+/[0-9]+/expected" system_expected "${deps}")
  if(NOT rc EQUAL 0 OR NOT system_expected)
    message(FATAL_ERROR "cannot locate the standard library's <expected>")
  endif()
  file(READ ${system_expected} text)
  set(orig "${text}")

  string(REPLACE "__cplusplus > 202002L && __cpp_concepts >= 202002L" "__cplusplus > 202002L"
    text "${text}")
  string(REPLACE "constexpr ~expected() = default;" "" text "${text}")
  string(REPLACE
    "constexpr ~expected()\n      requires (!is_trivially_destructible_v<_Tp>)\n\t    || (!is_trivially_destructible_v<_Er>)"
    "constexpr ~expected()" text "${text}")
  string(REPLACE "constexpr ~expected() requires (!is_trivially_destructible_v<_Er>)"
    "constexpr ~expected()" text "${text}")

  string(REGEX MATCHALL "~expected\\(\\)[^{;]*" dtors "${text}")
  list(LENGTH dtors ndtors)
  string(FIND "${text}" "__cpp_concepts" concepts_left)
  if(NOT ndtors EQUAL 2 OR NOT concepts_left EQUAL -1)
    message(FATAL_ERROR
      "${system_expected} is not the libstdc++ 12 header this build knows how to adapt; "
      "use a compiler that supports it (clang >= 16 with libstdc++ >= 13)")
  endif()
  set(IMAINIT_COMPAT_DIR ${CMAKE_BINARY_DIR}/compat)
  file(WRITE ${IMAINIT_COMPAT_DIR}/expected "${text}")
  message(STATUS "Using an adapted copy of ${system_expected} (compiler lacks P0848)")

  set(CMAKE_REQUIRED_FLAGS "-std=c++2b -isystem ${IMAINIT_COMPAT_DIR}")
  check_cxx_source_compiles([=[
#include <expected>
#include <string>
std::expected<std::string, int> f() { return std::string("x"); }
std::expected<void, std::string> g() { return std::unexpected(std::string("e")); }
int main() { auto a = f(); auto b = a; b = std::move(a); auto c = g(); auto d = c;
             return b->size() == 1 && !d ? 0 : 1; }
]=] IMAINIT_COMPAT_EXPECTED)
  unset(CMAKE_REQUIRED_FLAGS)
  if(NOT IMAINIT_COMPAT_EXPECTED)
    message(FATAL_ERROR "the adapted <expected> does not compile with ${CMAKE_CXX_COMPILER}")
  endif()
endif()
