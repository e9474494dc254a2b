#pragma once
// Shared by the libFuzzer targets of tests/fuzz/ (docs/testing.md, "Fuzzing
// and sanitizers"). The contract every target checks: on any input, prh's
// reader returns normally or throws prh::InputError (exit 2, a named file).
// Anything else is a finding: a crash, a sanitizer report, a leak, a timeout,
// an out-of-memory, and any other exception (InternalError, std::bad_alloc,
// a library's own exception type), which the guard turns into an abort.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>

#include "prh/core/error.hpp"

namespace prh::fuzz {

// A folder of this process's own (libFuzzer's -fork/-jobs run several at once),
// created once, removed at exit.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path d = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                              ("prh-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch(), ec);
    });
    return d;
  }();
  return dir;
}

// Writes the bytes to scratch()/name (replacing it) and returns its path.
inline std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = (scratch() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// Runs f; InputError is the expected answer to a bad input; anything else aborts.
template <class F>
void expect_input_errors_only(F&& f) {
  try {
    f();
  } catch (const prh::InputError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: not an InputError: %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz: an exception that is not a std::exception\n");
    std::abort();
  }
}

// An invariant of a reader's answer; a violation aborts with the message.
inline void require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace prh::fuzz
