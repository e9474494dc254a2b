// Group analysis: within/across means by hand, a planted gap detected, no gap
// not detected, the bootstrap intervals cover the observed values.

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "prh/core/error.hpp"
#include "prh/stats/groups.hpp"

namespace {

using prh::stats::BootstrapOptions;
using prh::stats::group_gap;
using prh::stats::group_test;
using prh::stats::keep_pairs;

TEST(StatsGroups, MeansByHand) {
  // 4 models, labels {0, 0, 1, -1}; an asymmetric matrix is symmetrised.
  const int M = 4;
  std::vector<double> s = {1,   0.8, 0.2, 9,  //
                           0.6, 1,   0.4, 9,  //
                           0.4, 0.2, 1,   9,  //
                           9,   9,   9,   1};
  const auto g = group_gap(s, M, {0, 0, 1, -1});
  EXPECT_EQ(g.n_within, 1);
  EXPECT_EQ(g.n_across, 2);
  EXPECT_DOUBLE_EQ(g.within, 0.7);              // (0.8 + 0.6) / 2
  EXPECT_DOUBLE_EQ(g.across, (0.3 + 0.3) / 2);  // (0.2 + 0.4) / 2, (0.4 + 0.2) / 2
  EXPECT_DOUBLE_EQ(g.gap, 0.7 - 0.3);
  // A NaN pair is left out.
  s[1] = std::nan("");
  const auto h = group_gap(s, M, {0, 0, 1, -1});
  EXPECT_EQ(h.n_within, 0);
  EXPECT_TRUE(std::isnan(h.within));
  EXPECT_TRUE(std::isnan(h.gap));
}

// M models in two groups; pairs within a group score base + gap, across base,
// plus noise.
std::vector<double> planted(int M, const std::vector<int>& lab, double gap, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> s(static_cast<std::size_t>(M) * M, 1.0);
  for (int i = 0; i < M; ++i)
    for (int j = i + 1; j < M; ++j) {
      const double noise = static_cast<double>(rng() >> 11) / 9007199254740992.0 * 0.1;
      const double v = 0.3 + noise + (lab[i] == lab[j] ? gap : 0.0);
      s[static_cast<std::size_t>(i) * M + j] = s[static_cast<std::size_t>(j) * M + i] = v;
    }
  return s;
}

TEST(StatsGroups, PlantedGapIsDetected) {
  const int M = 12;
  std::vector<int> lab;
  for (int i = 0; i < M; ++i) lab.push_back(i % 2);
  BootstrapOptions bo;
  bo.resamples = 500;
  bo.seed = 3;
  const auto t = group_test(planted(M, lab, 0.2, 1), M, lab, 999, 7, bo);
  EXPECT_NEAR(t.observed.gap, 0.2, 0.03);
  EXPECT_EQ(t.observed.n_within, 30);
  EXPECT_EQ(t.observed.n_across, 36);
  // Only relabellings that give the planted partition back (2 of the
  // C(12, 6) = 924 splits: about 2 of 999) reach the planted gap.
  EXPECT_LE(t.pvalue, 0.01);
  EXPECT_GE(t.pvalue, 1.0 / 1000);
  EXPECT_LT(t.gap_low, t.observed.gap);
  EXPECT_GT(t.gap_high, t.observed.gap);
  EXPECT_GT(t.gap_low, 0.1);
  EXPECT_LT(t.within_low, t.observed.within);
  EXPECT_GT(t.across_high, t.observed.across);
}

TEST(StatsGroups, NoGapIsNotDetected) {
  const int M = 12;
  std::vector<int> lab;
  for (int i = 0; i < M; ++i) lab.push_back(i % 3);
  BootstrapOptions bo;
  bo.resamples = 0;
  int small = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto t = group_test(planted(M, lab, 0.0, 100 + seed), M, lab, 199, seed, bo);
    EXPECT_GT(t.pvalue, 0.0);
    EXPECT_LE(t.pvalue, 1.0);
    small += t.pvalue < 0.05;
    EXPECT_TRUE(std::isnan(t.gap_low));
  }
  EXPECT_LE(small, 4);  // about 1 of 20 expected under the null
}

TEST(StatsGroups, DeterministicForASeed) {
  const int M = 8;
  std::vector<int> lab = {0, 0, 1, 1, 2, 2, 0, 1};
  BootstrapOptions bo;
  bo.resamples = 100;
  bo.seed = 5;
  const auto s = planted(M, lab, 0.05, 9);
  const auto a = group_test(s, M, lab, 100, 1, bo), b = group_test(s, M, lab, 100, 1, bo);
  EXPECT_EQ(a.pvalue, b.pvalue);
  EXPECT_EQ(a.gap_low, b.gap_low);
  EXPECT_EQ(a.across_high, b.across_high);
}

TEST(StatsGroups, KeepPairs) {
  const int M = 3;
  const std::vector<double> s = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const auto across = keep_pairs(s, M, {0, 0, 1}, true);
  const auto within = keep_pairs(s, M, {0, 0, 1}, false);
  EXPECT_TRUE(std::isnan(across[0]) && std::isnan(across[1]) && std::isnan(across[3]));
  EXPECT_EQ(across[2], 3);
  EXPECT_EQ(across[7], 8);
  EXPECT_EQ(within[1], 2);
  EXPECT_EQ(within[3], 4);
  EXPECT_TRUE(std::isnan(within[2]) && std::isnan(within[4]));
}

TEST(StatsGroups, ShapeErrors) {
  EXPECT_THROW(group_gap({1, 2, 3}, 2, {0, 1}), prh::InputError);
  EXPECT_THROW(group_gap({1, 2, 3, 4}, 2, {0}), prh::InputError);
}

}  // namespace
