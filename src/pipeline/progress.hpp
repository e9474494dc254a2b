#pragma once
// Internal to the pipeline layer: readable durations for progress lines.

#include <cmath>
#include <string>

#include <fmt/format.h>

namespace prh::pipeline::detail {

// "42s", "3m07s", "1h05m"; "?" when unknown.
inline std::string eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long>(seconds);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace prh::pipeline::detail
