#pragma once
// Kolmogorov-Smirnov distances of a sample from the uniform distribution on
// [0, 1], for the "p-values are uniform" tests.

#include <algorithm>
#include <vector>

namespace prh::testing {

// sup_x (F_n(x) - x): how far the sample sits BELOW where uniform p-values
// would (a valid, possibly conservative, p-value has F(x) <= x).
inline double ks_excess(std::vector<double> p) {
  std::sort(p.begin(), p.end());
  const double n = static_cast<double>(p.size());
  double d = 0;
  for (std::size_t i = 0; i < p.size(); ++i) d = std::max(d, (i + 1) / n - p[i]);
  return d;
}

// sup_x |F_n(x) - x|.
inline double ks_two_sided(std::vector<double> p) {
  std::sort(p.begin(), p.end());
  const double n = static_cast<double>(p.size());
  double d = 0;
  for (std::size_t i = 0; i < p.size(); ++i) d = std::max({d, (i + 1) / n - p[i], p[i] - i / n});
  return d;
}

}  // namespace prh::testing
