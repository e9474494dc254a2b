#pragma once
// The early-minus-late contrast of the layer profile (docs/results.md,
// "/layers and /layer_profile"), with an interval and a p-value from one
// construction: a jackknife over MODELS.
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
// the unit that was sampled is the model. The construction is the
// delete-one-model jackknife: theta_(i) = the statistic recomputed without
// model i (its pairs dropped, every set and both depths alike), for each of
// the n models with a finite score in the statistic's matrices (both sets'
// for change); se^2 = (n - 1) / n sum_i (theta_(i) - mean theta_(.))^2. The
// interval is theta +- t_{n-1}(1 - (1 - confidence) / 2) se and p = 2 P(T_{n-1}
// > |theta| / se): one construction, so the interval excludes 0 exactly when
// p < 1 - confidence. (se = 0: the interval is [theta, theta], p 1 for theta
// = 0 and 0 otherwise; the reference's change is 0, [0, 0], p 1.) NaN with
// fewer than 3 models.
//
// Why not the percentile bootstrap over models that the profile's `mean`
// intervals use: a resample drops the pairs of two copies of one model, which
// weights a model drawn w times by w (M - w) instead of w M and shrinks the
// spread of model-level effects by about (M - 2) / M; the test then rejected
// 6% of true nulls at 0.05 with 21 models (tests/unit/
// test_stats_layer_contrast.cpp). When model effects dominate, theta is a
// mean of per-model effects and the jackknife is exactly the one-sample t
// test of them; when pair noise dominates (the degenerate case) it
// overstates the variance (conservative).
//
// What the test holds (the unit test simulates it): with models that differ
// in overall alignment (s_ij = a_i + a_j + noise, the same a at every depth),
// with model-specific depth effects of population mean 0, shared by the sets
// or each set's own, the rejection rate at 0.05 stays at or below 0.05
// within Monte Carlo error; treating the pairs as independent units does
// not. Pure functions, deterministic (no resampling seed).

#include <cstdint>
#include <vector>

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
  // [S*K] (set-major): the statistic, its interval and its p (one
  // construction).
  std::vector<double> diff, diff_low, diff_high, diff_p;
  std::vector<double> change, change_low, change_high, change_p;
};

// Intervals at `confidence` in (0, 1). Throws InputError for inconsistent
// shapes or a reference out of range.
DepthContrast depth_contrast(const DepthContrastInput& in, double confidence);

}  // namespace prh::stats
