#pragma once
// Summaries of a falsification sweep (docs/sweeps.md): one image set per
// level, the same M models at every level.
//
// What is resampled. As for the correlations (bootstrap.hpp), the unit that
// was sampled is the model: a resample draws M model indices with replacement
// and keeps the ordered pairs (a, b) of resample positions whose models differ
// (drawn[a] != drawn[b]); a pair of two copies of one model has no score. The
// same drawn models serve every level and every configuration of one
// resample, so a curve's band and the breaking level's interval are
// consistent with each other.
//
// Matrices are row-major M x M (S[i*M+j] = metric(model i as A, model j as
// B)); NaN = missing. Means and fractions run over the ordered pairs i != j
// with a finite entry: for a symmetric (mirrored) matrix that is the mean over
// the unordered pairs; for an asymmetric one both orientations count.
// Pure functions; results depend only on the inputs and the seed.

#include <cstdint>
#include <limits>
#include <vector>

#include "prh/stats/bootstrap.hpp"

namespace prh::stats {

// Mean of the finite off-diagonal entries; NaN if none.
double mean_offdiagonal(const std::vector<double>& s, int M);

// Fraction of the off-diagonal entries with a finite q-value that are < alpha;
// NaN if none is finite.
double significant_fraction(const std::vector<double>& q, int M, double alpha);

// The first level (of `levels`, in order) at which `broken[l]` holds; +inf if
// it never does. `known[l]` false (the level's statistic is missing) before
// the first broken level gives NaN: the breaking level cannot be told.
double first_breaking_level(const std::vector<double>& levels, const std::vector<char>& broken,
                            const std::vector<char>& known);

struct SweepInput {
  std::vector<double> levels;  // [L], in sweep order
  int M = 0;
  // [L][K] score matrices; calibrated and qvalues: [L][K], an empty matrix
  // where that (level, configuration) is not calibrated.
  std::vector<std::vector<std::vector<double>>> scores, calibrated, qvalues;
  double alpha = 0.05;
  // Power-curve breaking: the first level at which the fraction of
  // significant pairs falls below this.
  double breaking_fraction = 0.5;
  // Effect-size breaking: the first level at which the mean calibrated score
  // relative to the first level's falls below this (in (0, 1)).
  double relative_fraction = 0.5;
};

struct SweepCurves {
  int L = 0, K = 0;
  // [L*K] (level-major): mean raw score, mean calibrated score, fraction of
  // pairs with q < alpha; each with its percentile bootstrap interval.
  std::vector<double> mean, mean_low, mean_high;
  std::vector<double> calibrated, calibrated_low, calibrated_high;
  std::vector<double> significant, significant_low, significant_high;
  // [K]: the first level at which significant < breaking_fraction (+inf:
  // never within the levels; NaN: not calibrated), and the interval of that
  // level over the resamples: the order statistics at (1 - confidence) / 2
  // and (1 + confidence) / 2 of the resampled breaking levels (+inf counted
  // as the largest), taken without interpolation because levels are
  // discrete; NaN when fewer than half of the resamples could tell a level.
  std::vector<double> breaking, breaking_low, breaking_high;
  // [K]: the fraction of resamples whose breaking level equals `breaking`.
  std::vector<double> breaking_agreement;
  // [L*K]: the mean calibrated score relative to the first level's (the base
  // images; 1 there), calibrated[l] / calibrated[0], each resample's ratio
  // of its own means (so one draw serves every level); NaN where the
  // configuration is not calibrated or the first level's mean is not > 0
  // (nothing beyond chance to lose).
  std::vector<double> relative, relative_low, relative_high;
  // [K]: the first level at which relative < relative_fraction (+inf: never;
  // NaN: relative unknown at or before the break), its interval (order
  // statistics of the resampled breaking levels, as for `breaking`) and the
  // fraction of resamples that break at exactly that level.
  std::vector<double> relative_breaking, relative_breaking_low, relative_breaking_high;
  std::vector<double> relative_breaking_agreement;
};

// The correlation breaking level of one configuration pair (docs/sweeps.md):
// the first level whose calibration-null p (`null_p[l]`, one-sided: the
// observed coefficient exceeds the coefficient over the pairs' null scores)
// is not < alpha; a NaN p at a level (no coefficient: constant scores)
// counts as broken. +inf: every level rejects. NaN: the pair has no null at
// any level (not tested).
double correlation_breaking_level(const std::vector<double>& levels,
                                  const std::vector<double>& null_p, double alpha);

// Throws InputError for inconsistent shapes.
SweepCurves sweep_curves(const SweepInput& in, const BootstrapOptions& opt);

}  // namespace prh::stats
