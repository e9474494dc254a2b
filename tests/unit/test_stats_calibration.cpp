#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "prh/core/error.hpp"
#include "prh/stats/calibration.hpp"
#include "stats_ks.hpp"

using namespace prh::stats;

namespace {
const double kNaN = std::nan("");
}

TEST(Calibration, ThresholdRank) {
  EXPECT_EQ(threshold_rank(0.05, 99), 95);     // 0.95 * 100 = 95 exactly
  EXPECT_EQ(threshold_rank(0.05, 1000), 951);  // ceil(950.95)
  EXPECT_EQ(threshold_rank(0.05, 19), 19);     // 0.95 * 20 = 19
  EXPECT_EQ(threshold_rank(0.5, 3), 2);
  EXPECT_EQ(threshold_rank(0.01, 9), 10);  // ceil(9.9): the observed score itself at most
  EXPECT_EQ(threshold_rank(0.999, 9), 1);
}

TEST(Calibration, ByHand) {
  // alpha 0.2, K = 4: tau is the ceil(0.8 * 5) = 4th of the five scores.
  auto c = calibrate(0.35, {0.4, 0.1, 0.3, 0.2}, 0.2);
  EXPECT_EQ(c.count, 4);
  EXPECT_DOUBLE_EQ(c.threshold, 0.35);  // {0.1, 0.2, 0.3, 0.35, 0.4}
  EXPECT_DOUBLE_EQ(c.pvalue, 2.0 / 5);  // one null score >= 0.35
  EXPECT_DOUBLE_EQ(c.calibrated, 0.0);
  EXPECT_DOUBLE_EQ(c.null_mean, 0.25);
  EXPECT_NEAR(c.null_sd, std::sqrt(0.05 / 3), 1e-15);
  c = calibrate(0.9, {0.4, 0.1, 0.3, 0.2}, 0.2);
  EXPECT_DOUBLE_EQ(c.threshold, 0.4);  // {0.1, 0.2, 0.3, 0.4, 0.9}
  EXPECT_DOUBLE_EQ(c.pvalue, 1.0 / 5);
  EXPECT_DOUBLE_EQ(c.calibrated, (0.9 - 0.4) / (1 - 0.4));
  // Ties with the observed score count as reaching it.
  c = calibrate(0.5, {0.5, 0.5, 0.5}, 0.05);
  EXPECT_DOUBLE_EQ(c.pvalue, 1.0);
  EXPECT_DOUBLE_EQ(c.calibrated, 0.0);
  // Negative scores (unbiased CKA, CKNNA) calibrate the same way.
  c = calibrate(-0.1, {-0.3, -0.2}, 0.4);  // r = ceil(0.6 * 3) = 2: tau = -0.2
  EXPECT_DOUBLE_EQ(c.threshold, -0.2);
  EXPECT_DOUBLE_EQ(c.calibrated, 0.1 / 1.2);
}

TEST(Calibration, NaNs) {
  // NaN null scores are left out and K counts the rest.
  auto c = calibrate(0.9, {0.1, kNaN, 0.2}, 0.5);
  EXPECT_EQ(c.count, 2);
  EXPECT_DOUBLE_EQ(c.pvalue, 1.0 / 3);
  c = calibrate(kNaN, {0.1, 0.2}, 0.05);
  EXPECT_TRUE(std::isnan(c.pvalue) && std::isnan(c.threshold) && std::isnan(c.calibrated));
  c = calibrate(0.5, {kNaN}, 0.05);
  EXPECT_TRUE(std::isnan(c.pvalue));
  EXPECT_EQ(c.count, 0);
  EXPECT_THROW(calibrate(0.5, {0.1}, 0.0), prh::InputError);
  EXPECT_THROW(calibrate(0.5, {0.1}, 1.0), prh::InputError);
}

TEST(Calibration, IdenticalGivesSmallestPAndOne) {
  // Identical features: observed 1, every null score below it.
  std::vector<double> null(99);
  for (std::size_t t = 0; t < null.size(); ++t) null[t] = 0.01 * static_cast<double>(t % 7);
  const auto c = calibrate(1.0, null, 0.05);
  EXPECT_DOUBLE_EQ(c.pvalue, 1.0 / 100);
  EXPECT_DOUBLE_EQ(c.calibrated, 1.0);
}

TEST(Calibration, UniformPValuesUnderExchangeability) {
  // Observed and null scores i.i.d.: p uniform on {1/(K+1), ..., 1}, and the
  // observed score exceeds tau (calibrated > 0) with probability alpha.
  const int K = 99, runs = 2000;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);  // values only; not part of the method
  std::vector<double> p;
  int positive = 0;
  for (int r = 0; r < runs; ++r) {
    std::vector<double> null(K);
    for (auto& v : null) v = u(rng);
    const auto c = calibrate(u(rng), null, 0.05);
    p.push_back(c.pvalue);
    positive += c.calibrated > 0;
  }
  // KS at the 1% level (1.63 / sqrt(n)) plus the 1/(K+1) steps of a discrete p.
  EXPECT_LT(prh::testing::ks_two_sided(p), 1.63 / std::sqrt(runs) + 1.0 / (K + 1));
  EXPECT_LT(positive, runs * 0.05 + 3 * std::sqrt(runs * 0.05 * 0.95));
  EXPECT_GT(positive, runs * 0.05 - 3 * std::sqrt(runs * 0.05 * 0.95));
}

TEST(BenjaminiHochberg, ByHand) {
  // m = 5 finite: sorted 0.005, 0.01, 0.03, 0.04, 0.5; m p / j = 0.025,
  // 0.025, 0.05, 0.05, 0.5; running minimum from the largest down.
  const auto q = bh_qvalues({0.01, 0.04, 0.03, 0.005, kNaN, 0.5});
  EXPECT_DOUBLE_EQ(q[0], 0.025);
  EXPECT_DOUBLE_EQ(q[1], 0.05);
  EXPECT_DOUBLE_EQ(q[2], 0.05);
  EXPECT_DOUBLE_EQ(q[3], 0.025);
  EXPECT_TRUE(std::isnan(q[4]));
  EXPECT_DOUBLE_EQ(q[5], 0.5);
  // Step-up: the larger p lowers the smaller one's q (2 * 0.02 / 1 > 2 * 0.021 / 2).
  const auto q2 = bh_qvalues({0.02, 0.021});
  EXPECT_DOUBLE_EQ(q2[0], 0.021);
  EXPECT_DOUBLE_EQ(q2[1], 0.021);
  // Capped at 1; ties share a q.
  const auto q3 = bh_qvalues({0.9, 0.9, 0.9});
  EXPECT_DOUBLE_EQ(q3[0], 0.9);
  EXPECT_DOUBLE_EQ(bh_qvalues({0.6, 0.9})[0], 0.9);
  EXPECT_TRUE(bh_qvalues({}).empty());
}

TEST(NullSummary, ByHand) {
  const auto s = summarize_null(3.5, {4, 1, kNaN, 3, 2});
  EXPECT_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.q95, 3.85);  // h = 3 * 0.95 = 2.85: 3 + 0.85 (4 - 3)
  EXPECT_DOUBLE_EQ(s.p, 2.0 / 5);
  EXPECT_TRUE(std::isnan(summarize_null(kNaN, {1, 2}).p));
  EXPECT_TRUE(std::isnan(summarize_null(1, {}).mean));
}
