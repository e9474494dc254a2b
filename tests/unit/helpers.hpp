#pragma once
// Small helpers shared by the metric tests.

#include <string>
#include <vector>

#include "prh/metrics/engine.hpp"

namespace testing_helpers {

using namespace prh::metrics;

inline PreprocessOptions no_clamp() {
  PreprocessOptions p;
  p.clamp = false;
  return p;
}

inline PreprocessOptions raw() {
  PreprocessOptions p;
  p.clamp = false;
  p.normalize = false;
  return p;
}

// Score of one configuration for single-layer features a and b.
inline double score(const MatrixF& a, const MatrixF& b, const std::string& spec,
                    const PreprocessOptions& pre = PreprocessOptions{}) {
  const std::vector<MetricSpec> specs{parse_metric(spec)};
  auto ra = make_representations({a}, pre, specs, "A");
  auto rb = make_representations({b}, pre, specs, "B");
  return compare_models(ra, rb, specs)[0].score;
}

inline NeighborLists lists(const std::vector<std::vector<int>>& rows,
                           const std::vector<std::vector<float>>& sims = {}) {
  NeighborLists l;
  l.n = static_cast<Index>(rows.size());
  l.k = static_cast<int>(rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      l.index.push_back(rows[i][c]);
      l.sim.push_back(sims.empty() ? 1.0f - 0.1f * static_cast<float>(c) : sims[i][c]);
    }
  return l;
}

}  // namespace testing_helpers
