#pragma once
// The early-minus-late contrast of the layer profile (docs/results.md,
// "/layers and /layer_profile"), with an interval and a p-value from one
// construction: a bootstrap over MODELS.
//
// Per image set S and configuration k, from the same-depth matrices of the
// first grid point (every model's first layer) and the last (every model's
// last layer):
//
//   diff(S)   = mean(S, early) - mean(S, late)
//   change(S) = diff(S) - diff(reference)
//
// where mean(S, g) is the mean over the ordered model pairs i != j with a
// finite entry (sweep.hpp's mean_offdiagonal: the estimator of the profile's
// `mean`, so diff is the first point of the profile's curve minus its last).
// change is the interaction "does early alignment survive the shift from the
// reference set better than late": (S early - ref early) - (S late - ref
// late); it is 0 for the reference itself.
//
// Uncertainty. Pairs share models, so the M(M-1) scores are not independent;
// the unit that was sampled is the model. Each of `resamples` resamples
// draws M model indices with replacement (resample_models, the generator
// seeded with `seed`: with the profile's seed the same draws as its `mean`
// intervals) and keeps the ordered pairs of resample positions whose models
// differ; the same draws serve every set, both depths and every
// configuration (a paired comparison). The interval is the percentile
// interval of the resampled statistics, and p = percentile_pvalue of the same
// resampled statistics: the two-sided bootstrap p of "the statistic is 0",
// whose interval at `confidence` excludes 0 exactly when p < 1 - confidence.
// Both NaN where fewer than half the resamples gave a finite value, and
// everywhere with resamples == 0.
//
// What the test holds (tests/unit/test_stats_layer_contrast.cpp simulates
// it): with models that differ in overall alignment (s_ij = a_i + a_j +
// noise, the same a at every depth), and with model-specific depth effects
// whose population mean is 0, the rejection rate at 0.05 stays at or below
// 0.05; a pair-level bootstrap would not. Pure functions.

#include <cstdint>
#include <vector>

#include "prh/stats/bootstrap.hpp"

namespace prh::stats {

struct DepthContrastInput {
  int M = 0;
  // [S][K] row-major M x M same-depth matrices (NaN = missing) at the
  // first (early) and the last (late) grid point.
  std::vector<std::vector<std::vector<double>>> early, late;
  int reference = 0;  // the set `change` subtracts
};

struct DepthContrast {
  int S = 0, K = 0;
  // [S*K] (set-major): the statistic, its percentile interval and its
  // bootstrap p (one construction).
  std::vector<double> diff, diff_low, diff_high, diff_p;
  std::vector<double> change, change_low, change_high, change_p;
};

// Throws InputError for inconsistent shapes or a reference out of range.
DepthContrast depth_contrast(const DepthContrastInput& in, const BootstrapOptions& opt);

}  // namespace prh::stats
