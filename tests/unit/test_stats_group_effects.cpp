// Group effects with model main effects (issue 23), on the default's own
// 21-model label design (configs/default.yaml: training_data and family of
// each member, in the config's order):
// - the OLS fit equals an independent solve (Eigen's column-pivoting QR of the
//   full pair design, and the normal equations);
// - size: a planted main effect (+0.03 for every fashion04 model) and no
//   group effect, 200 repetitions at alpha = 0.05 with 199 permutations: the
//   test rejects at most 20 times (the raw within - across gap rejects in most
//   of them: the confound the model removes);
// - power: a planted effect of sharing training data is detected;
// - the inverted interval and the p-value agree on every repetition;
// - rank deficiency and too few models give NaN with a reason.

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "prh/core/error.hpp"
#include "prh/stats/group_effects.hpp"
#include "prh/stats/groups.hpp"

namespace {

using prh::stats::fit_group_effects;
using prh::stats::test_group_effects;

constexpr int kM = 21;
// training_data: 0 fashion04 (13 members), 1 fashion59, 2 fashion10, 3 shapes, 4 natural.
const std::vector<int> kTrainingData = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 1, 1, 2, 2, 3, 3, 4, 4};
// family: 0 mlp, 1 cnn, 2 resnet, 3 vit.
const std::vector<int> kFamily = {0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1};

// A standard normal from two raw outputs (Box-Muller; no std::*_distribution).
double normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 0.5) / 9007199254740992.0;
  const double u2 = static_cast<double>(rng() >> 11) / 9007199254740992.0;
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Scores of the default's design: 0.5 + a_i + a_j + effect [same training data]
// + noise; a_i = main for the fashion04 members plus a random model effect of
// sd 0.01, pair noise of sd 0.02 (the spread of mknn@10 across the default's
// pairs is a few hundredths). Asymmetric: the two orientations differ by noise.
std::vector<double> simulate(double main, double effect, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> a(kM);
  for (int i = 0; i < kM; ++i) a[i] = (kTrainingData[i] == 0 ? main : 0.0) + 0.01 * normal(rng);
  std::vector<double> s(kM * kM, 1.0);
  for (int i = 0; i < kM; ++i)
    for (int j = i + 1; j < kM; ++j) {
      const double v = 0.5 + a[i] + a[j] + (kTrainingData[i] == kTrainingData[j] ? effect : 0.0) +
                       0.02 * normal(rng);
      const double d = 0.005 * normal(rng);
      s[i * kM + j] = v + d;
      s[j * kM + i] = v - d;
    }
  return s;
}

TEST(StatsGroupEffects, OlsEqualsAnIndependentSolve) {
  auto s = simulate(0.03, 0.01, 1);
  s[2 * kM + 5] = std::nan("");  // a pair left out
  std::vector<int> fam = kFamily;
  fam[7] = -1;  // a model without a family label: indicator 0, model kept
  const std::vector<std::vector<int>> labels = {kTrainingData, fam};
  const auto fit = fit_group_effects(s, kM, labels);
  ASSERT_EQ(fit.beta.size(), 2u);
  EXPECT_EQ(fit.pairs, kM * (kM - 1) / 2 - 1);
  EXPECT_EQ(fit.models, kM);
  // The full design: intercept, a_1..a_{M-1} (a_0 dropped), the two indicators.
  const int P = 1 + (kM - 1) + 2;
  Eigen::MatrixXd X(fit.pairs, P);
  Eigen::VectorXd y(fit.pairs);
  X.setZero();
  int r = 0;
  for (int i = 0; i < kM; ++i)
    for (int j = i + 1; j < kM; ++j) {
      const double v = (s[i * kM + j] + s[j * kM + i]) / 2;
      if (!std::isfinite(v)) continue;
      X(r, 0) = 1;
      if (i > 0) X(r, i) = 1;
      if (j > 0) X(r, j) = 1;
      X(r, kM) = kTrainingData[i] == kTrainingData[j] ? 1 : 0;
      X(r, kM + 1) = fam[i] >= 0 && fam[i] == fam[j] ? 1 : 0;
      y(r) = v;
      ++r;
    }
  const Eigen::VectorXd qr = X.colPivHouseholderQr().solve(y);
  const Eigen::VectorXd ne = (X.transpose() * X).ldlt().solve(X.transpose() * y);
  EXPECT_NEAR(fit.beta[0], qr(kM), 1e-12);
  EXPECT_NEAR(fit.beta[1], qr(kM + 1), 1e-12);
  EXPECT_NEAR(fit.beta[0], ne(kM), 1e-10);
  EXPECT_NEAR(fit.beta[1], ne(kM + 1), 1e-10);
  EXPECT_EQ(fit.reason[0], "");
  EXPECT_EQ(fit.reason[1], "");
}

TEST(StatsGroupEffects, NominalSizeUnderAMainEffect) {
  // 200 repetitions, 199 permutations each (p in multiples of 1/200; the
  // smallest number that makes a 0.05 test possible with room to spare, and
  // fast on 2 cores). Under the null, rejections ~ Binomial(200, <= 0.05):
  // mean 10, P(> 20) < 0.002.
  const std::vector<std::vector<int>> labels = {kTrainingData, kFamily};
  int reject_td = 0, reject_family = 0, reject_raw = 0, disagree = 0;
  double raw_gap = 0;
  for (std::uint64_t rep = 0; rep < 200; ++rep) {
    const auto s = simulate(0.03, 0.0, 1000 + rep);
    const auto t = test_group_effects(s, kM, labels, 199, 77 + rep, 0.95);
    ASSERT_TRUE(std::isfinite(t.pvalue[0]) && std::isfinite(t.pvalue[1]));
    reject_td += t.pvalue[0] <= 0.05;
    reject_family += t.pvalue[1] <= 0.05;
    for (int f = 0; f < 2; ++f)
      disagree += (t.ci_low[f] > 0) != (t.pvalue[f] <= 0.025) ||
                  !(t.ci_low[f] <= t.fit.beta[f] && t.fit.beta[f] <= t.ci_high[f]);
    prh::stats::BootstrapOptions bo;
    bo.resamples = 0;
    const auto raw = prh::stats::group_test(s, kM, kTrainingData, 199, 77 + rep, bo);
    reject_raw += raw.pvalue <= 0.05;
    raw_gap += raw.observed.gap / 200;
  }
  EXPECT_LE(reject_td, 20);
  EXPECT_LE(reject_family, 20);
  // The raw gap test on the same data: the main effect alone makes it reject.
  EXPECT_GT(raw_gap, 0.025);
  EXPECT_GE(reject_raw, 150);
  EXPECT_EQ(disagree, 0);
  std::printf(
      "main effect only, 200 repetitions: effect test rejects %d (training_data), "
      "%d (family); raw gap %.4f rejects %d\n",
      reject_td, reject_family, raw_gap, reject_raw);
}

TEST(StatsGroupEffects, PlantedGroupEffectIsDetected) {
  const std::vector<std::vector<int>> labels = {kTrainingData, kFamily};
  int detected = 0, covered = 0, disagree = 0;
  const int reps = 50;
  for (std::uint64_t rep = 0; rep < reps; ++rep) {
    const auto s = simulate(0.03, 0.02, 5000 + rep);
    const auto t = test_group_effects(s, kM, labels, 199, 11 + rep, 0.95);
    detected += t.pvalue[0] <= 0.05;
    covered += t.ci_low[0] <= 0.02 && 0.02 <= t.ci_high[0];
    for (int f = 0; f < 2; ++f) disagree += (t.ci_low[f] > 0) != (t.pvalue[f] <= 0.025);
  }
  EXPECT_GE(detected, 45);  // power >= 0.9
  EXPECT_GE(covered, 40);   // the 95% interval covers the planted effect
  EXPECT_EQ(disagree, 0);
  std::printf("planted effect 0.02, %d repetitions: detected %d, interval covers it %d\n", reps,
              detected, covered);
}

TEST(StatsGroupEffects, DeterministicForASeed) {
  const auto s = simulate(0.03, 0.01, 3);
  const std::vector<std::vector<int>> labels = {kTrainingData, kFamily};
  const auto a = test_group_effects(s, kM, labels, 99, 5, 0.9);
  const auto b = test_group_effects(s, kM, labels, 99, 5, 0.9);
  for (int f = 0; f < 2; ++f) {
    EXPECT_EQ(a.fit.beta[f], b.fit.beta[f]);
    EXPECT_EQ(a.pvalue[f], b.pvalue[f]);
    EXPECT_EQ(a.ci_low[f], b.ci_low[f]);
    EXPECT_EQ(a.ci_high[f], b.ci_high[f]);
    EXPECT_EQ(a.valid[f], 99);
  }
}

TEST(StatsGroupEffects, NotIdentified) {
  const auto s = simulate(0.0, 0.0, 4);
  // Every model in one group: the indicator is 1 on every pair, the sum of
  // the main effects' columns over 2.
  const std::vector<int> one(kM, 0);
  std::vector<int> singletons(kM);
  for (int i = 0; i < kM; ++i) singletons[i] = i;
  const auto fit = fit_group_effects(s, kM, {kTrainingData, one, singletons, kTrainingData});
  EXPECT_TRUE(std::isfinite(fit.beta[0]));
  EXPECT_TRUE(std::isnan(fit.beta[1]));
  EXPECT_NE(fit.reason[1].find("collinear"), std::string::npos);
  EXPECT_TRUE(std::isnan(fit.beta[2]));
  EXPECT_NE(fit.reason[2].find("shares a label"), std::string::npos);
  EXPECT_TRUE(std::isnan(fit.beta[3]));  // a copy of factor 0
  EXPECT_NE(fit.reason[3].find("collinear"), std::string::npos);
  // The collinear factors do not change the identified one.
  EXPECT_NEAR(fit.beta[0], fit_group_effects(s, kM, {kTrainingData}).beta[0], 1e-12);
  const auto t = test_group_effects(s, kM, {kTrainingData, one}, 49, 1, 0.95);
  EXPECT_TRUE(std::isfinite(t.pvalue[0]));
  EXPECT_TRUE(std::isnan(t.pvalue[1]) && std::isnan(t.ci_low[1]));
  // Three models: NaN, with the reason.
  const std::vector<double> s3 = {1, 0.5, 0.4, 0.5, 1, 0.3, 0.4, 0.3, 1};
  const auto f3 = fit_group_effects(s3, 3, {{0, 0, 1}});
  EXPECT_TRUE(std::isnan(f3.beta[0]));
  EXPECT_NE(f3.reason[0].find("fewer than 4 models"), std::string::npos);
  // A model whose every pair is NaN is not a model of the fit.
  auto s4 = s;
  for (int j = 0; j < kM; ++j) s4[20 * kM + j] = s4[j * kM + 20] = std::nan("");
  EXPECT_EQ(fit_group_effects(s4, kM, {kTrainingData}).models, kM - 1);
  EXPECT_THROW(fit_group_effects({1, 2, 3}, 2, {{0, 1}}), prh::InputError);
  EXPECT_THROW(fit_group_effects(s, kM, {{0, 1}}), prh::InputError);
}

}  // namespace
