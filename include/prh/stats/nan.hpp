#pragma once
// The "no value" of the statistics (an empty group, a degenerate interval),
// declared once for every file of src/stats.

#include <limits>

namespace prh::stats {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace prh::stats
