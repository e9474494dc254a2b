#include "prh/stats/cross_metric.hpp"

#include "prh/core/error.hpp"

namespace prh::stats {

NullSummary correlation_null(double observed, const std::vector<double>& null_a,
                             const std::vector<double>& null_b, std::size_t permutations,
                             Method m) {
  PRH_CHECK_INPUT(
      permutations > 0 && null_a.size() == null_b.size() && null_a.size() % permutations == 0,
      "correlation null: {} and {} null scores for {} permutations", null_a.size(), null_b.size(),
      permutations);
  const std::size_t P = null_a.size() / permutations;
  std::vector<double> x(P), y(P), rs(permutations);
  for (std::size_t t = 0; t < permutations; ++t) {
    for (std::size_t p = 0; p < P; ++p) {
      x[p] = null_a[p * permutations + t];
      y[p] = null_b[p * permutations + t];
    }
    rs[t] = coefficient_finite(x, y, m);
  }
  return summarize_null(observed, rs);
}

}  // namespace prh::stats
