#pragma once
// Permutation calibration of an alignment score (science.md, point 4) and
// Benjamini-Hochberg q-values. Pure functions.
//
// The null: K scores of the same pair after shuffling the rows of one model
// (so the two models share no images). What the p-value assumes: under the
// null hypothesis "the two models' representations of the images are
// unrelated", the observed score and the K null scores are exchangeable.
// Then P(p <= x) <= x for every x, exactly, whatever the metric and however
// its null distribution looks (ties, discreteness and all).

#include <cstdint>
#include <vector>

namespace prh::stats {

struct Calibration {
  double threshold = 0;    // tau
  double pvalue = 0;       // (1 + #{null >= observed}) / (K + 1)
  double calibrated = 0;   // clamp((observed - tau) / (1 - tau), 0, 1)
  double null_mean = 0;    // mean of the finite null scores
  double null_sd = 0;      // their sample standard deviation (n - 1); NaN if K < 2
  std::int64_t count = 0;  // K: the finite null scores used
};

// The rank r = ceil((1 - alpha)(K + 1)) of tau among the K + 1 scores,
// computed as ceil((1 - alpha)(K + 1) - 1e-9) (so that 0.95 * 100 is 95 even
// when rounding makes it 95.00000000000001) and clamped to [1, K + 1].
std::int64_t threshold_rank(double alpha, std::int64_t K);

// Calibrates `observed` against the null scores. NaN null scores (undefined
// for that permutation) are left out, and K counts the rest. tau is the r-th
// smallest (threshold_rank) of the K finite null scores together with the
// observed one. calibrated = clamp((observed - tau) / (1 - tau), 0, 1), and 0
// when tau >= 1 (no room above the threshold on a [.., 1] scale). Everything
// is NaN when observed is NaN or no null score is finite. Throws InputError
// unless 0 < alpha < 1.
Calibration calibrate(double observed, const std::vector<double>& null, double alpha);

// Benjamini-Hochberg (1995) adjusted p-values: with the m finite p-values
// sorted ascending p_(1) <= ... <= p_(m), q_(i) = min_{j >= i} min(1, m p_(j) / j);
// NaN stays NaN and does not count in m. Rejecting q < alpha controls the
// false discovery rate at alpha for independent or positively dependent
// (PRDS) p-values.
std::vector<double> bh_qvalues(const std::vector<double>& p);

// Where an observed statistic sits in its permutation distribution.
struct NullSummary {
  double mean = 0;         // of the finite null values
  double q95 = 0;          // their 0.95 quantile (quantile_sorted: numpy "linear")
  double p = 0;            // one-sided: (1 + #{null >= observed}) / (1 + #finite)
  std::int64_t count = 0;  // finite null values
};

// NaN fields where observed is NaN or no null value is finite.
NullSummary summarize_null(double observed, const std::vector<double>& null);

// The share of the variance of a configuration's scores across pairs that
// chance explains (docs/calibration.md): the mean over the pairs of the
// variance of the pair's null scores, over the variance of the observed
// scores across the pairs; both sample variances (n - 1). `observed[p]` is
// pair p's score and row p of `null` (row-major [P, permutations]) its null
// scores. Pairs with a NaN score or fewer than two finite null scores are
// left out. Near 0: the pairs' differences are almost all beyond chance
// (what a correlation over them reflects); near or above 1: chance alone
// could give the spread. NaN with fewer than two pairs or constant scores.
double chance_share(const std::vector<double>& observed, const std::vector<double>& null,
                    std::size_t permutations);

}  // namespace prh::stats
