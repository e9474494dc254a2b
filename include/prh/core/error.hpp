#pragma once
// Errors as exceptions whose message names the offending object; `main` turns
// them into one line and an exit code (InputError -> 2, anything else -> 1).

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace prh {

// Something is wrong with what the user gave us (config, file, flag, data).
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bug or an environment failure: not the user's input.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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
