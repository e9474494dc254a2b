#pragma once
// Correlation between metric configurations over model pairs, with bootstrap
// confidence intervals, and the paired comparison of two image sets.
//
// What is resampled, and why. A configuration's score vector has one entry per
// unordered model pair i < j, so M models give M(M-1)/2 entries, but those
// entries are not independent observations: each model appears in M-1 of
// them, and a model that is unusual moves all of its pairs together. The
// p-values of correlate() treat the pairs as independent, so they are
// optimistic (too small). The unit that was actually sampled is the model, so
// the honest uncertainty comes from resampling MODELS: draw M model indices
// with replacement, rebuild every configuration's pair vector from the drawn
// models (a pair of two copies of one model is dropped: it has no score), and
// recompute the correlations. The spread of those recomputed correlations is
// the percentile interval. Every configuration pair, and both image sets of a
// comparison, use the same drawn models in each resample, so the intervals are
// consistent with each other and the comparison is paired.
//
// Score matrices are std::vector<double> of M*M entries, row-major
// (S[i*M+j] = metric(model i as A, model j as B)); NaN = not computed or
// undefined. Pure functions; the random numbers are std::mt19937_64 mapped to
// indices by rejection sampling, so results depend only on the seed, never on
// the platform or the standard library.

#include <cstdint>
#include <random>
#include <vector>

#include "prh/stats/correlation.hpp"

namespace prh::stats {

// Entries i < j of the M x M matrix s in row-major order: (0,1), (0,2), ...,
// (0,M-1), (1,2), ... ; M(M-1)/2 of them.
std::vector<double> upper_triangle(const std::vector<double>& s, int M);

// Per model i, the mean over the other models j of (s[i][j] + s[j][i]) / 2,
// skipping the j whose average is not finite; NaN if no j is left.
std::vector<double> mean_alignment(const std::vector<double>& s, int M);

// correlate() on the positions where both x and y are finite; fewer than 3 such
// positions give {NaN, NaN, n, false} instead of an error. Throws InputError
// for vectors of different length.
Correlation correlate_finite(const std::vector<double>& x, const std::vector<double>& y, Method m);

struct BootstrapOptions {
  int resamples = 1000;      // 0: no bootstrap (intervals and bootstrap p-values NaN)
  double confidence = 0.95;  // of the percentile interval, in (0, 1)
  std::uint64_t seed = 0;
};

// One resample of the models: M indices drawn uniformly from [0, M) with
// replacement. Each index is the raw 64-bit output of rng reduced modulo M,
// rejecting raw values >= the largest multiple of M (so no index is favoured).
std::vector<int> resample_models(std::mt19937_64& rng, int M);

// The pair vector of the resampled models `drawn` (from resample_models): over
// a < b with drawn[a] != drawn[b], in that order, s[u*M+v] with
// u = min(drawn[a], drawn[b]), v = max(...): the upper-triangle entry of the
// original pair, so every resampled pair keeps the orientation of
// upper_triangle().
std::vector<double> resampled_upper_triangle(const std::vector<double>& s, int M,
                                             const std::vector<int>& drawn);

// Percentile of the values (sorted ascending, all finite) by linear
// interpolation between order statistics (numpy's default "linear":
// h = (n-1) q). NaN for an empty vector.
double quantile_sorted(const std::vector<double>& sorted, double q);

// The percentile interval (quantile_sorted at (1 - confidence) / 2 and
// (1 + confidence) / 2) of `values`, which must all be finite (sorted in
// place); NaN when fewer than half of the `resamples` gave a value.
void percentile_interval(std::vector<double>& values, int resamples, double confidence, double& low,
                         double& high);

// The two-sided bootstrap percentile p-value of "the statistic is 0", the
// dual of percentile_interval: with Q(q) = quantile_sorted(sorted, q) (a
// continuous, non-decreasing function of q), q_low = max{q : Q(q) <= 0} (0
// when Q(0) > 0) and q_high = min{q : Q(q) >= 0} (1 when Q(1) < 0),
// p = min(1, 2 min(q_low, 1 - q_high)). Then the percentile interval at
// confidence c, [Q((1-c)/2), Q((1+c)/2)], excludes 0 exactly when p < 1 - c.
// p = 0 when every value lies strictly on one side of 0. `sorted`: ascending,
// all finite; NaN when empty.
double percentile_pvalue(const std::vector<double>& sorted);

// Correlations between K configurations, all K x K row-major.
struct CorrelationMatrix {
  int K = 0;
  std::vector<double> r, p;             // coefficient, two-sided p (correlate())
  std::vector<double> ci_low, ci_high;  // percentile bootstrap interval (NaN: none)
  // percentile_pvalue of the same r* as the interval: the two-sided bootstrap
  // p of "r = 0" that agrees with it (excludes 0 exactly when ci_p < 1 -
  // confidence); NaN where the interval is.
  std::vector<double> ci_p;
  std::vector<std::int64_t> n;  // model pairs with both scores finite
};

// matrices[k]: configuration k's M x M score matrix. r, p, n: correlate_finite
// of the upper_triangle vectors. Diagonal: r = 1 (p = 0) where the
// configuration has at least 3 finite pairs and is not constant, else NaN; its
// interval is [1, 1] when at least half of the resamples left it defined.
// Off-diagonal intervals: opt.resamples resamples of the models
// (resample_models, drawn once per resample and shared by all configuration
// pairs), r* = correlate_finite(...).r of the resampled_upper_triangle vectors,
// then the (1-confidence)/2 and (1+confidence)/2 quantiles of the finite r*;
// NaN when fewer than half of the resamples gave a finite r*, and everywhere
// when opt.resamples == 0. Throws InputError for a matrix that is not M x M.
CorrelationMatrix correlation_matrix(const std::vector<std::vector<double>>& matrices, int M,
                                     Method m, const BootstrapOptions& opt);

// r(set1) - r(set2), all K x K row-major.
struct CorrelationDifference {
  int K = 0;
  std::vector<double> diff, ci_low, ci_high, p;
};

// The same M models and K configurations evaluated on two image sets
// (set1[k], set2[k]: configuration k's score matrices). diff = r1 - r2 (NaN if
// either is). Paired bootstrap: each resample draws the models once and uses
// them for both sets, d* = r1* - r2*; the interval is the percentile interval
// of the finite d*, and p = percentile_pvalue of the same d* (two-sided test
// of "no difference", one construction with the interval: the interval
// excludes 0 exactly when p < 1 - confidence); interval and p are NaN where diff is
// NaN, where fewer than half of the resamples gave a finite d*, and everywhere
// when opt.resamples == 0. Diagonal: diff 0 where both r are 1, interval
// [0, 0], p 1 (with resamples > 0).
CorrelationDifference compare_correlations(const std::vector<std::vector<double>>& set1,
                                           const std::vector<std::vector<double>>& set2, int M,
                                           Method m, const BootstrapOptions& opt);

}  // namespace prh::stats
