#pragma once
// Group effects with model main effects (issue 23): does sharing a label (the
// training distribution, the architecture family) raise a pair's alignment
// beyond what the two models' overall alignment with everyone explains?
//
// Model. Over the pairs i < j whose score s_ij = (s[i][j] + s[j][i]) / 2 is
// finite, ordinary least squares of
//
//     s_ij = a_i + a_j + sum_F beta_F [label_F(i) = label_F(j) >= 0]
//
// with one main effect a_i per model that has a finite pair (the intercept mu
// is absorbed: the columns of the a_i sum to 2 on every pair, so mu + a_i +
// a_j is the same model with a_i shifted by mu / 2) and all factors jointly.
// A model without a label for factor F (label -1) has indicator 0 in every
// pair of F and is kept for the main effects. beta_F is identified when the
// pair graph of the models is connected and not bipartite (always true for
// the complete graph of M >= 3 models) and F's indicator is not a linear
// combination of the main effects and the earlier factors; otherwise beta_F
// is NaN with a reason. Fewer than 4 models with a finite pair: NaN.
//
// Solved by Frisch-Waugh-Lovell: the indicators and the scores are
// residualised against the main effects (Cholesky of A'A, A the pair x model
// incidence), then the factors' small normal equations (Cholesky, columns in
// factor order, a column whose residual sum of squares falls below 1e-10 of
// its own is collinear and dropped). Equal to the full least squares solution
// up to rounding (tests/unit/test_stats_group_effects.cpp: Eigen QR).
//
// Test of beta_F > 0. The labels of F of the labelled models are permuted
// (seeded_permutation(seed, t, number labelled), t = 0..T-1; the other
// factors' labels and the main effects stay), the whole fit redone:
// b_t = beta_F of the permuted design. One-sided
// p = (1 + #{b_t >= beta_F}) / (1 + valid t), valid: the permuted fit is
// identified. Null: F's labels are exchangeable across the labelled models
// given the main effects and the other factors.
//
// Interval: inversion of the same permutation test (one construction with the
// p-value). For a hypothesised beta0, the scores s - beta0 x_F (x_F: F's
// observed indicator) refitted on permuted design t give b_t - beta0 c_t,
// where c_t is the coefficient of permuted F when x_F itself is regressed on
// the permuted design; the observed fit gives beta_F - beta0. So
//   p_up(beta0)   = (1 + #{b_t - beta_F >= beta0 (c_t - 1)}) / (1 + valid)
//   p_down(beta0) = (1 + #{b_t - beta_F <= beta0 (c_t - 1)}) / (1 + valid)
// are step functions of beta0 with steps at (b_t - beta_F) / (c_t - 1), and
// p_up(0) is the p-value above. The interval at `confidence` c is the hull
// [inf, sup] of the accepted set {beta0 : p_up(beta0) > (1-c)/2 and
// p_down(beta0) > (1-c)/2}, computed exactly (every step and every gap
// between steps is tried); +-inf where the permutations cannot bound it.
// Hence ci_low > 0 implies p <= (1-c)/2, and, whenever p_up is
// non-decreasing in beta0 (every c_t <= 1, the usual case), ci_low > 0 if and
// only if p <= (1-c)/2.

#include <cstdint>
#include <string>
#include <vector>

namespace prh::stats {

// Per factor: the OLS beta (NaN where not identified) and why not ("" when
// identified). pairs: pairs used; models: models with a finite pair.
struct EffectFit {
  std::vector<double> beta;
  std::vector<std::string> reason;
  std::int64_t pairs = 0;
  int models = 0;
};

// The OLS fit above. s: M x M row-major; labels[F][M] (-1: no label). Throws
// InputError for shapes that do not fit.
EffectFit fit_group_effects(const std::vector<double>& s, int M,
                            const std::vector<std::vector<int>>& labels);

struct EffectTest {
  EffectFit fit;
  // Per factor; NaN where beta is NaN or (p, interval) without a valid
  // permutation (permutations == 0: p and interval NaN).
  std::vector<double> pvalue, ci_low, ci_high;
  std::vector<std::int64_t> valid;  // permutations with an identified fit
};

// fit_group_effects, then for every factor F its permutation test and the
// inverted interval (see the header comment), `permutations` relabellings of
// F from `seed` (the same relabellings for every factor and every call with
// that seed and that number of labelled models).
EffectTest test_group_effects(const std::vector<double>& s, int M,
                              const std::vector<std::vector<int>>& labels, int permutations,
                              std::uint64_t seed, double confidence);

}  // namespace prh::stats
