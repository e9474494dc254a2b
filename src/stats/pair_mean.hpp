// The mean of the finite entries of a flattened M x M score matrix at the
// given indices (NaN when none is finite): shared by the sweep curves and
// the layer contrast, so that both average pairs the same way.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace prh::stats::detail {

inline double mean_at(const std::vector<double>& s, const std::vector<std::size_t>& idx) {
  double sum = 0;
  std::size_t n = 0;
  for (auto x : idx)
    if (std::isfinite(s[x])) sum += s[x], ++n;
  return n ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace prh::stats::detail
