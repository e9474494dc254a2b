#pragma once
// Alignment within and across groups of models (issue 15): models carry a
// label (their training distribution, or their architecture family); is the
// alignment of pairs that share a label higher than that of pairs that do
// not?
//
// A pair's score is the symmetrised (s[i][j] + s[j][i]) / 2 over i < j, as in
// mean_alignment(); pairs whose score is not finite, and pairs with an
// unlabelled model (label < 0), are left out.
//
// - Test of "within > across": the labels of the labelled models are permuted
//   (seeded_permutation(seed, t, number labelled), t = 0..T-1), the gap
//   within - across recomputed; one-sided p = (1 + #{gap_t >= gap}) /
//   (1 + finite gap_t). Null: labels are exchangeable across models (group
//   membership says nothing about alignment). Pairs sharing a model are
//   handled by permuting models, not pairs.
// - Intervals: the models are resampled with replacement (resample_models;
//   pairs of two copies of one model dropped), the within mean, the across
//   mean and the gap recomputed; percentile interval at `confidence` of the
//   finite values, NaN when fewer than half of the resamples gave one.

#include <cstdint>
#include <vector>

#include "prh/stats/bootstrap.hpp"

namespace prh::stats {

struct GroupGap {
  double within = 0, across = 0, gap = 0;  // NaN where there is no such pair
  std::int64_t n_within = 0, n_across = 0;
};

// The within and across means of the M x M matrix s (row-major) for labels [M].
GroupGap group_gap(const std::vector<double>& s, int M, const std::vector<int>& labels);

struct GroupTest {
  GroupGap observed;
  double pvalue = 0;  // one-sided permutation p of "within > across"; NaN without both kinds
  double within_low = 0, within_high = 0, across_low = 0, across_high = 0;
  double gap_low = 0, gap_high = 0;  // NaN when bo.resamples == 0
};

// group_gap, its permutation test (`permutations` relabellings from
// `permutation_seed`) and bootstrap intervals (bo: resamples, confidence,
// seed). Throws InputError for a matrix that is not M x M or labels not of M.
GroupTest group_test(const std::vector<double>& s, int M, const std::vector<int>& labels,
                     int permutations, std::uint64_t permutation_seed, const BootstrapOptions& bo);

// s with the pairs of the wanted kind kept and the others (and unlabelled
// models' pairs, and the diagonal) set to NaN: `across` true keeps the pairs
// with different labels. For correlations restricted to one kind of pair.
std::vector<double> keep_pairs(const std::vector<double>& s, int M, const std::vector<int>& labels,
                               bool across);

}  // namespace prh::stats
