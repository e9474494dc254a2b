#pragma once
// Logging: spdlog to stderr (stdout stays clean for --json). One prefix per
// process, so MPI ranks can be told apart once `parallel` sets it.

#include <string>

#include <spdlog/spdlog.h>

namespace prh::log {

// Sets up the default logger on stderr with `prefix` in every line.
void init(const std::string& prefix = "prh", spdlog::level::level_enum level = spdlog::level::info);

}  // namespace prh::log
