#pragma once
// Errors as exceptions whose message names the offending object; `main` turns
// them into one line and an exit code (InputError -> 2, anything else -> 1).

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace prh {

// The length of the valid UTF-8 sequence at s[i] (1 to 4), or 0 if the byte
// there starts none (overlong forms, surrogates and NUL count as invalid).
inline std::size_t utf8_sequence(const std::string& s, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  const unsigned char c = p[i];
  std::size_t len = 0;
  if (c >= 0x01 && c < 0x80)
    len = 1;
  else if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4;
  if (len == 0 || i + len > n) return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((p[i + k] & 0xC0) != 0x80) return 0;
  if (len == 3 && ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0))) return 0;
  if (len == 4 && ((c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] >= 0x90))) return 0;
  return len;
}

// The index of the first byte of `s` that is not valid UTF-8, or npos.
inline std::size_t first_invalid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_sequence(s, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string::npos;
}

// `s` with every byte that is not part of valid UTF-8 written as \xNN: error
// messages quote file names and file contents (a path that is not UTF-8 is
// valid on Linux, a sidecar may hold random bytes), and they travel through
// JSON between ranks and into logs, which need UTF-8.
inline std::string utf8_escaped(const std::string& s) {
  if (first_invalid_utf8(s) == std::string::npos) return s;
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_sequence(s, i);
    if (len > 0) {
      out.append(s, i, len);
      i += len;
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
      ++i;
    }
  }
  return out;
}

// Something is wrong with what the user gave us (config, file, flag, data).
// The message is made UTF-8 safe (utf8_escaped).
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(utf8_escaped(what)) {}
  explicit InputError(const char* what) : InputError(std::string(what)) {}
};

// A bug or an environment failure: not the user's input.
class InternalError : public std::runtime_error {
 public:
  explicit InternalError(const std::string& what) : std::runtime_error(utf8_escaped(what)) {}
  explicit InternalError(const char* what) : InternalError(std::string(what)) {}
};

// Exit codes of the prh executable.
// A stage stopped early on request (SIGUSR1/SIGTERM, e.g. SLURM's warning
// before a time limit): finished work is saved, a re-run resumes.
class Stopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitStopped = 75;  // EX_TEMPFAIL: stopped on a signal, resumable

}  // namespace prh

// Validate user input: throws prh::InputError with a formatted message.
#define PRH_CHECK_INPUT(cond, ...)                                  \
  do {                                                              \
    if (!(cond)) throw ::prh::InputError(fmt::format(__VA_ARGS__)); \
  } while (0)

// Internal invariant: throws prh::InternalError naming the source location.
#define PRH_ASSERT(cond, ...)                                                      \
  do {                                                                             \
    if (!(cond))                                                                   \
      throw ::prh::InternalError(                                                  \
          fmt::format("{}:{}: {}", __FILE__, __LINE__, fmt::format(__VA_ARGS__))); \
  } while (0)
