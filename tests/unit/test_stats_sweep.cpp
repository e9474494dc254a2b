#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "prh/core/error.hpp"
#include "prh/stats/calibration.hpp"
#include "prh/stats/cross_metric.hpp"
#include "prh/stats/sweep.hpp"

using namespace prh::stats;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// An M x M matrix with entry f(i, j) off the diagonal and `diag` on it.
template <class F>
std::vector<double> matrix(int M, F f, double diag = 1) {
  std::vector<double> s(static_cast<std::size_t>(M * M), diag);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j)
      if (i != j) s[i * M + j] = f(i, j);
  return s;
}

// q-values: the pairs (i, j) with i + j < cut are significant (q = 0.001),
// the others not (q = 0.5); symmetric.
std::vector<double> qcut(int M, int cut) {
  return matrix(
      M, [&](int i, int j) { return i + j < cut ? 0.001 : 0.5; }, kNaN);
}

}  // namespace

TEST(StatsSweep, MeanAndFractionByHand) {
  const int M = 3;
  // Off-diagonal: 1 2 / 3 4 / 5 NaN: mean of the finite ones (1+2+3+4+5)/5.
  std::vector<double> s = {9, 1, 2, 3, 9, 4, 5, kNaN, 9};
  EXPECT_DOUBLE_EQ(mean_offdiagonal(s, M), 3.0);
  std::vector<double> q = {0, 0.01, 0.2, 0.04, 0, kNaN, 0.06, 0.049, 0};
  // Finite off-diagonal: 0.01 0.2 0.04 0.06 0.049: 3 of 5 below 0.05.
  EXPECT_DOUBLE_EQ(significant_fraction(q, M, 0.05), 0.6);
  EXPECT_TRUE(std::isnan(significant_fraction(std::vector<double>(9, kNaN), M, 0.05)));
  EXPECT_TRUE(std::isnan(mean_offdiagonal(std::vector<double>(9, kNaN), M)));
  EXPECT_THROW(mean_offdiagonal(s, 4), prh::InputError);
}

TEST(StatsSweep, FirstBreakingLevel) {
  const std::vector<double> lv = {0, 0.25, 0.5, 0.75};
  EXPECT_DOUBLE_EQ(first_breaking_level(lv, {0, 0, 1, 0}, {1, 1, 1, 1}), 0.5);
  EXPECT_DOUBLE_EQ(first_breaking_level(lv, {1, 1, 1, 1}, {1, 1, 1, 1}), 0.0);
  EXPECT_EQ(first_breaking_level(lv, {0, 0, 0, 0}, {1, 1, 1, 1}), kInf);
  // An unknown level before the break: cannot be told; after it: irrelevant.
  EXPECT_TRUE(std::isnan(first_breaking_level(lv, {0, 0, 1, 0}, {1, 0, 1, 1})));
  EXPECT_DOUBLE_EQ(first_breaking_level(lv, {0, 1, 0, 0}, {1, 1, 0, 0}), 0.25);
  EXPECT_THROW(first_breaking_level(lv, {0, 1}, {1, 1}), prh::InputError);
}

TEST(StatsSweep, SharpBreakIsTheSameInEveryResample) {
  // Every pair significant at levels 0 and 1, none from level 2 on: every
  // resample (whatever models it draws) breaks at level 2.
  const int M = 5;
  SweepInput in;
  in.levels = {0, 0.1, 0.2, 0.3};
  in.M = M;
  for (int l = 0; l < 4; ++l) {
    const double q = l < 2 ? 0.001 : 0.9;
    in.scores.push_back({matrix(M, [&](int, int) { return 1.0 - 0.25 * l; })});
    in.calibrated.push_back({matrix(M, [&](int, int) { return l < 2 ? 0.5 : 0.0; })});
    in.qvalues.push_back({matrix(
        M, [&](int, int) { return q; }, kNaN)});
  }
  BootstrapOptions bo;
  bo.resamples = 200;
  bo.seed = 3;
  const auto c = sweep_curves(in, bo);
  ASSERT_EQ(c.L, 4);
  ASSERT_EQ(c.K, 1);
  EXPECT_DOUBLE_EQ(c.breaking[0], 0.2);
  EXPECT_DOUBLE_EQ(c.breaking_low[0], 0.2);
  EXPECT_DOUBLE_EQ(c.breaking_high[0], 0.2);
  EXPECT_DOUBLE_EQ(c.breaking_agreement[0], 1.0);
  for (int l = 0; l < 4; ++l) {
    EXPECT_DOUBLE_EQ(c.mean[l], 1.0 - 0.25 * l);
    // Constant matrices: every resample gives the same mean.
    EXPECT_DOUBLE_EQ(c.mean_low[l], c.mean[l]);
    EXPECT_DOUBLE_EQ(c.mean_high[l], c.mean[l]);
    EXPECT_DOUBLE_EQ(c.significant[l], l < 2 ? 1.0 : 0.0);
    EXPECT_DOUBLE_EQ(c.calibrated[l], l < 2 ? 0.5 : 0.0);
  }
}

TEST(StatsSweep, BreakingLevelFromTheFractionAndNeverOrUncalibrated) {
  const int M = 6;  // 30 ordered pairs
  SweepInput in;
  in.levels = {0, 1, 2, 3, 4};
  in.M = M;
  // Configuration 0: cut 11 (all pairs: i + j <= 9), 9, 6, 4, 2:
  // fractions by hand below. Configuration 1: always all significant.
  // Configuration 2: not calibrated.
  const int cuts[] = {11, 9, 6, 4, 2};
  for (int l = 0; l < 5; ++l) {
    const auto s = matrix(M, [](int i, int j) { return 0.1 * (i + j); });
    in.scores.push_back({s, s, s});
    in.qvalues.push_back({qcut(M, cuts[l]), qcut(M, 100), {}});
    in.calibrated.push_back({s, s, {}});
  }
  BootstrapOptions bo;
  bo.resamples = 0;
  const auto c = sweep_curves(in, bo);
  // Fraction of ordered pairs i != j with i + j < cut, counted by hand.
  auto frac = [&](int cut) {
    int n = 0, hit = 0;
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < M; ++j)
        if (i != j) ++n, hit += i + j < cut;
    return static_cast<double>(hit) / n;
  };
  for (int l = 0; l < 5; ++l) EXPECT_DOUBLE_EQ(c.significant[l * 3 + 0], frac(cuts[l]));
  double want = kInf;
  for (int l = 0; l < 5 && want == kInf; ++l)
    if (frac(cuts[l]) < 0.5) want = in.levels[l];
  EXPECT_DOUBLE_EQ(c.breaking[0], want);
  EXPECT_EQ(c.breaking[1], kInf);
  EXPECT_TRUE(std::isnan(c.breaking[2]));
  EXPECT_TRUE(std::isnan(c.significant[2]));
  EXPECT_TRUE(std::isnan(c.calibrated[2]));
  EXPECT_TRUE(std::isnan(c.mean_low[0]));  // no resamples: no intervals
}

TEST(StatsSweep, BootstrapEqualsANaiveRecomputation) {
  const int M = 7;
  std::mt19937_64 g(11);
  std::uniform_real_distribution<double> u(0, 1);
  SweepInput in;
  in.levels = {0, 0.5, 1};
  in.M = M;
  for (int l = 0; l < 3; ++l) {
    auto s = matrix(M, [&](int, int) { return u(g); });
    auto q = matrix(
        M, [&](int, int) { return u(g) * (l + 1) * 0.1; }, kNaN);
    in.scores.push_back({s});
    in.qvalues.push_back({q});
    in.calibrated.push_back({s});
  }
  BootstrapOptions bo;
  bo.resamples = 400;
  bo.seed = 9;
  bo.confidence = 0.9;
  const auto c = sweep_curves(in, bo);
  // The same draws, recomputed by hand.
  std::mt19937_64 rng(bo.seed);
  std::vector<std::vector<double>> means(3), brks(1);
  for (int it = 0; it < bo.resamples; ++it) {
    const auto drawn = resample_models(rng, M);
    double brk = kInf;
    for (int l = 0; l < 3; ++l) {
      double sum = 0, n = 0, hit = 0;
      for (int a = 0; a < M; ++a)
        for (int b = 0; b < M; ++b) {
          if (drawn[a] == drawn[b]) continue;
          const auto x = static_cast<std::size_t>(drawn[a] * M + drawn[b]);
          sum += in.scores[l][0][x];
          hit += in.qvalues[l][0][x] < in.alpha;
          ++n;
        }
      means[l].push_back(sum / n);
      if (brk == kInf && hit / n < 0.5) brk = in.levels[l];
    }
    brks[0].push_back(brk);
  }
  for (int l = 0; l < 3; ++l) {
    auto v = means[l];
    std::sort(v.begin(), v.end());
    EXPECT_NEAR(c.mean_low[l], quantile_sorted(v, 0.05), 1e-12);
    EXPECT_NEAR(c.mean_high[l], quantile_sorted(v, 0.95), 1e-12);
    EXPECT_LE(c.mean_low[l], c.mean[l] + 0.2);
  }
  auto b = brks[0];
  std::sort(b.begin(), b.end());
  const double n1 = static_cast<double>(b.size() - 1);
  EXPECT_EQ(c.breaking_low[0], b[static_cast<std::size_t>(std::floor(n1 * 0.05))]);
  EXPECT_EQ(c.breaking_high[0], b[static_cast<std::size_t>(std::ceil(n1 * 0.95))]);
  double same = 0;
  for (double x : brks[0]) same += x == c.breaking[0];
  EXPECT_DOUBLE_EQ(c.breaking_agreement[0], same / bo.resamples);
}

TEST(StatsSweep, ShapesAreChecked) {
  SweepInput in;
  in.levels = {0, 1};
  in.M = 2;
  in.scores = {{std::vector<double>(4, 0.0)}};  // one level only
  EXPECT_THROW(sweep_curves(in, {}), prh::InputError);
  in.scores.push_back({std::vector<double>(9, 0.0)});  // 3 x 3 for 2 models
  EXPECT_THROW(sweep_curves(in, {}), prh::InputError);
}

TEST(StatsSweep, RelativeCalibratedAndItsBreakingLevelByHand) {
  // One configuration, calibrated mean 0.8, 0.6, 0.3, 0.5 (constant
  // matrices): relative 1, 0.75, 0.375, 0.625; below 0.5 first at level 2.
  const int M = 4;
  const double cal[] = {0.8, 0.6, 0.3, 0.5};
  SweepInput in;
  in.levels = {0, 1, 2, 3};
  in.M = M;
  for (int l = 0; l < 4; ++l) {
    in.scores.push_back(
        {matrix(M, [&](int, int) { return cal[l]; }), matrix(M, [](int, int) { return 0.0; })});
    in.calibrated.push_back(
        {matrix(M, [&](int, int) { return cal[l]; }), matrix(M, [](int, int) { return 0.0; })});
    in.qvalues.push_back({qcut(M, 100), qcut(M, 0)});
  }
  BootstrapOptions bo;
  bo.resamples = 50;
  bo.seed = 1;
  auto c = sweep_curves(in, bo);
  for (int l = 0; l < 4; ++l) {
    EXPECT_DOUBLE_EQ(c.relative[l * 2], cal[l] / cal[0]);
    EXPECT_DOUBLE_EQ(c.relative_low[l * 2], cal[l] / cal[0]);  // constant: every resample
    EXPECT_DOUBLE_EQ(c.relative_high[l * 2], cal[l] / cal[0]);
    EXPECT_TRUE(std::isnan(c.relative[l * 2 + 1]));  // nothing beyond chance at the base
  }
  EXPECT_DOUBLE_EQ(c.relative_breaking[0], 2.0);
  EXPECT_DOUBLE_EQ(c.relative_breaking_low[0], 2.0);
  EXPECT_DOUBLE_EQ(c.relative_breaking_high[0], 2.0);
  EXPECT_DOUBLE_EQ(c.relative_breaking_agreement[0], 1.0);
  EXPECT_TRUE(std::isnan(c.relative_breaking[1]));
  // The power curve of this configuration never breaks (every pair q < alpha).
  EXPECT_EQ(c.breaking[0], kInf);
  // Another fraction moves the break; (0, 1) only.
  in.relative_fraction = 0.3;
  c = sweep_curves(in, bo);
  EXPECT_EQ(c.relative_breaking[0], kInf);
  in.relative_fraction = 0.7;
  c = sweep_curves(in, bo);
  EXPECT_DOUBLE_EQ(c.relative_breaking[0], 2.0);
  in.relative_fraction = 0.8;
  c = sweep_curves(in, bo);
  EXPECT_DOUBLE_EQ(c.relative_breaking[0], 1.0);
  for (double bad : {0.0, 1.0, -0.5, kNaN}) {
    in.relative_fraction = bad;
    EXPECT_THROW(sweep_curves(in, bo), prh::InputError) << bad;
  }
}

TEST(StatsSweep, RelativeBootstrapIsTheRatioOfEachResamplesMeans) {
  const int M = 6;
  std::mt19937_64 g(5);
  std::uniform_real_distribution<double> u(0, 1);
  SweepInput in;
  in.levels = {0, 0.5, 1};
  in.M = M;
  for (int l = 0; l < 3; ++l) {
    auto c = matrix(M, [&](int, int) { return u(g) / (1 + 2 * l); });
    in.scores.push_back({c});
    in.calibrated.push_back({c});
    in.qvalues.push_back({qcut(M, 100)});
  }
  BootstrapOptions bo;
  bo.resamples = 300;
  bo.seed = 4;
  bo.confidence = 0.9;
  const auto c = sweep_curves(in, bo);
  std::mt19937_64 rng(bo.seed);
  std::vector<std::vector<double>> rel(3);
  std::vector<double> brk;
  for (int it = 0; it < bo.resamples; ++it) {
    const auto drawn = resample_models(rng, M);
    double m[3];
    for (int l = 0; l < 3; ++l) {
      double sum = 0, n = 0;
      for (int a = 0; a < M; ++a)
        for (int b = 0; b < M; ++b)
          if (drawn[a] != drawn[b]) sum += in.calibrated[l][0][drawn[a] * M + drawn[b]], ++n;
      m[l] = sum / n;
    }
    double b = kInf;
    for (int l = 0; l < 3; ++l) {
      rel[l].push_back(m[l] / m[0]);
      if (b == kInf && m[l] / m[0] < 0.5) b = in.levels[l];
    }
    brk.push_back(b);
  }
  for (int l = 0; l < 3; ++l) {
    EXPECT_NEAR(c.relative[l],
                mean_offdiagonal(in.calibrated[l][0], M) / mean_offdiagonal(in.calibrated[0][0], M),
                1e-15);
    auto v = rel[l];
    std::sort(v.begin(), v.end());
    EXPECT_NEAR(c.relative_low[l], quantile_sorted(v, 0.05), 1e-12);
    EXPECT_NEAR(c.relative_high[l], quantile_sorted(v, 0.95), 1e-12);
  }
  std::sort(brk.begin(), brk.end());
  const double n1 = static_cast<double>(brk.size() - 1);
  EXPECT_EQ(c.relative_breaking_low[0], brk[static_cast<std::size_t>(std::floor(n1 * 0.05))]);
  EXPECT_EQ(c.relative_breaking_high[0], brk[static_cast<std::size_t>(std::ceil(n1 * 0.95))]);
}

TEST(StatsSweep, CorrelationBreakingLevelUsesTheNullP) {
  const std::vector<double> lv = {0, 0.5, 1};
  EXPECT_DOUBLE_EQ(correlation_breaking_level(lv, {0.01, 0.2, 0.01}, 0.05), 0.5);
  EXPECT_DOUBLE_EQ(correlation_breaking_level(lv, {0.3, 0.01, 0.01}, 0.05), 0.0);
  EXPECT_EQ(correlation_breaking_level(lv, {0.01, 0.01, 0.049}, 0.05), kInf);
  // An undefined coefficient at a level (constant scores) breaks there.
  EXPECT_DOUBLE_EQ(correlation_breaking_level(lv, {0.01, kNaN, 0.01}, 0.05), 0.5);
  // No null at any level: not tested.
  EXPECT_TRUE(std::isnan(correlation_breaking_level(lv, {kNaN, kNaN, kNaN}, 0.05)));
  EXPECT_THROW(correlation_breaking_level(lv, {0.01}, 0.05), prh::InputError);
}

TEST(StatsSweep, ChanceShareAndCorrelationNullByHand) {
  // Three pairs, three permutations. Null variances 1, 0 and 4 (rows
  // {0, 1, 2}, {5, 5, 5}, {0, 2, 4}); observed 1, 2, 6: variance 7.
  const std::vector<double> null = {0, 1, 2, 5, 5, 5, 0, 2, 4};
  EXPECT_NEAR(chance_share({1, 2, 6}, null, 3), (5.0 / 3) / 7, 1e-15);
  // A NaN score leaves its pair out: pairs 0 and 2, variance of {1, 6} 12.5.
  EXPECT_NEAR(chance_share({1, kNaN, 6}, null, 3), 2.5 / 12.5, 1e-15);
  EXPECT_TRUE(std::isnan(chance_share({1, 1, 1}, null, 3)));
  EXPECT_THROW(chance_share({1, 2}, null, 3), prh::InputError);
  // The correlation null: per permutation (column) Pearson over the pairs.
  const std::vector<double> b = {0, 1, 2, 1, 2, 3, 2, 0, 4};
  std::vector<double> rs;
  for (int t = 0; t < 3; ++t)
    rs.push_back(pearson_r({null[t], null[3 + t], null[6 + t]}, {b[t], b[3 + t], b[6 + t]}));
  const auto want = summarize_null(0.5, rs);
  const auto got = correlation_null(0.5, null, b, 3, Method::Pearson);
  EXPECT_DOUBLE_EQ(got.mean, want.mean);
  EXPECT_DOUBLE_EQ(got.p, want.p);
  EXPECT_THROW(correlation_null(0.5, null, {1, 2}, 3, Method::Pearson), prh::InputError);
}
