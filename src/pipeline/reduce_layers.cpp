// Phase 3b of `prh reduce` (reduce_parts.hpp), with the layer profile on:
// the relative-depth summary of every set from the layer-by-layer scores.

#include <cmath>

#include "prh/core/error.hpp"
#include "prh/stats/layer_contrast.hpp"
#include "prh/stats/layer_profile.hpp"
#include "prh/stats/sweep.hpp"
#include "reduce_parts.hpp"

namespace prh::pipeline::reduce_parts {

namespace {

// [set][g][k] the same-depth M x M matrices of every set.
using SameDepth = std::vector<std::vector<std::vector<std::vector<double>>>>;

// One set's profile: its same-depth matrices from /layers (into `same`),
// their finite ordered pairs, and the mean with its interval. The grid
// points are the "levels" of stats::sweep_curves: the same estimator (and,
// with the same seed, the same model resamples) as /correlation/S/mean, at
// every depth.
store::LayerProfile::Set set_profile(const config::Sweep& sweep, const std::string& set,
                                     const store::ResultsLayout& L, const store::LayersLayout& ll,
                                     const stats::BootstrapOptions& bo,
                                     std::vector<std::vector<std::vector<double>>>& same) {
  const int G = ll.max_layers;
  const int M = static_cast<int>(L.models.size());
  const std::size_t K = L.configurations.size();
  stats::SweepInput x;
  x.levels = stats::depth_grid(G);
  x.M = M;
  x.scores.assign(static_cast<std::size_t>(G), std::vector<std::vector<double>>(K));
  store::LayerProfile::Set out;
  out.name = set;
  out.pairs.assign(static_cast<std::size_t>(G) * K, 0);
  for (std::size_t c = 0; c < K; ++c) {
    int lmax = 0;
    const auto t = store::read_layer_matrices(sweep.results, set, L.configurations[c].name, lmax);
    PRH_ASSERT(lmax == G, "/layers of {}: {} layers, expected {}", set, lmax, G);
    for (int g = 0; g < G; ++g) {
      auto m = stats::same_depth_scores(t, ll.layer_counts, G, g, G);
      std::int64_t n = 0;
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < M; ++j)
          if (i != j && std::isfinite(m[static_cast<std::size_t>(i * M + j)])) ++n;
      out.pairs[static_cast<std::size_t>(g) * K + c] = n;
      x.scores[static_cast<std::size_t>(g)][c] = std::move(m);
    }
  }
  auto curves = stats::sweep_curves(x, bo);
  out.mean = std::move(curves.mean);
  out.mean_ci_low = std::move(curves.mean_low);
  out.mean_ci_high = std::move(curves.mean_high);
  same = std::move(x.scores);
  return out;
}

// Each set's mean relative to the reference set's (the config's first) at
// the same depth: stats::sweep_curves with the sets as levels and the raw
// same-depth matrices in the place of calibrated ones, so that `relative`
// is mean(S) / mean(reference), each model resample dividing its own means
// (the same resamples for every set: a paired comparison).
void add_relative(store::LayerProfile& p, const SameDepth& same, int M, int G, std::size_t K,
                  const stats::BootstrapOptions& bo) {
  const int S = static_cast<int>(p.sets.size());
  for (auto& o : p.sets) {
    o.relative.assign(static_cast<std::size_t>(G) * K, std::nan(""));
    o.relative_ci_low = o.relative_ci_high = o.relative;
  }
  for (int g = 0; g < G && S > 0; ++g) {
    stats::SweepInput y;
    y.M = M;
    for (int si = 0; si < S; ++si) {
      y.levels.push_back(si);
      y.scores.push_back(same[static_cast<std::size_t>(si)][static_cast<std::size_t>(g)]);
    }
    y.calibrated = y.scores;
    const auto rc = stats::sweep_curves(y, bo);
    for (int si = 0; si < S; ++si)
      for (std::size_t c = 0; c < K; ++c) {
        const auto from = static_cast<std::size_t>(si) * K + c;
        const auto to = static_cast<std::size_t>(g) * K + c;
        auto& o = p.sets[static_cast<std::size_t>(si)];
        o.relative[to] = rc.relative[from];
        o.relative_ci_low[to] = rc.relative_low[from];
        o.relative_ci_high[to] = rc.relative_high[from];
      }
  }
}

// The early-minus-late contrast per set and its change relative to the
// reference (stats/layer_contrast.hpp): the first grid point (every
// model's first layer) against the last; interval and p from one
// leave-one-model-out jackknife.
void add_contrast(store::LayerProfile& p, const SameDepth& same, int M, int G, std::size_t K,
                  double confidence) {
  const int S = static_cast<int>(p.sets.size());
  stats::DepthContrastInput dc;
  dc.M = M;
  dc.reference = 0;
  for (int si = 0; si < S && G > 0; ++si) {
    dc.early.push_back(same[static_cast<std::size_t>(si)][0]);
    dc.late.push_back(same[static_cast<std::size_t>(si)][static_cast<std::size_t>(G - 1)]);
  }
  const auto ct = stats::depth_contrast(dc, confidence);
  for (int si = 0; si < S; ++si) {
    auto& o = p.sets[static_cast<std::size_t>(si)];
    const auto take = [&](const std::vector<double>& v) {
      if (v.empty()) return std::vector<double>(K, std::nan(""));
      return std::vector<double>(
          v.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(si) * K),
          v.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(si + 1) * K));
    };
    o.early_late = take(ct.diff);
    o.early_late_ci_low = take(ct.diff_low);
    o.early_late_ci_high = take(ct.diff_high);
    o.early_late_p = take(ct.diff_p);
    o.early_late_change = take(ct.change);
    o.early_late_change_ci_low = take(ct.change_low);
    o.early_late_change_ci_high = take(ct.change_high);
    o.early_late_change_p = take(ct.change_p);
  }
}

}  // namespace

store::LayerProfile layer_profile(const config::Sweep& sweep, const Plan& plan,
                                  const store::ResultsLayout& L, const store::LayersLayout& ll,
                                  std::uint64_t mean_seed) {
  store::LayerProfile p;
  const int G = ll.max_layers;
  p.depths = stats::depth_grid(G);
  p.layer_counts = ll.layer_counts;
  for (const auto& c : L.configurations) p.configurations.push_back(c.name);
  p.bootstrap = sweep.bootstrap;
  p.confidence = sweep.confidence;
  p.seed = mean_seed;
  stats::BootstrapOptions bo;
  bo.resamples = sweep.bootstrap;
  bo.confidence = sweep.confidence;
  bo.seed = mean_seed;
  const int M = static_cast<int>(L.models.size());
  const std::size_t K = L.configurations.size();
  SameDepth same(plan.sets.size());
  for (std::size_t si = 0; si < plan.sets.size(); ++si)
    p.sets.push_back(set_profile(sweep, plan.sets[si].name, L, ll, bo, same[si]));
  p.reference = plan.sets.empty() ? "" : plan.sets[0].name;
  add_relative(p, same, M, G, K, bo);
  add_contrast(p, same, M, G, K, sweep.confidence);
  return p;
}

}  // namespace prh::pipeline::reduce_parts
