#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "prh/core/error.hpp"
#include "prh/stats/correlation.hpp"

using namespace prh::stats;

TEST(Correlation, AverageRanksForTies) {
  EXPECT_EQ(ranks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_EQ(ranks({3, 1, 3, 3}), (std::vector<double>{3, 1, 3, 3}));
}

// Against the definition, counted: rank = #(smaller) + (#(equal) + 1) / 2,
// on values with many ties (few distinct values, signed zeros among them).
TEST(Correlation, RanksEqualTheirDefinitionWithManyTies) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 1 + rng() % 60;
    const int distinct = 1 + static_cast<int>(rng() % 8);
    std::vector<double> x(n);
    for (auto& v : x) {
      const int level = static_cast<int>(rng() % static_cast<unsigned>(distinct));
      v = level == 0 ? (rng() % 2 ? 0.0 : -0.0) : 0.25 * level - 1.0;
    }
    const auto r = ranks(x);
    ASSERT_EQ(r.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      double less = 0, equal = 0;
      for (double y : x) less += y < x[i], equal += y == x[i];
      ASSERT_EQ(r[i], less + (equal + 1) / 2) << "trial " << trial << " i " << i;
    }
  }
}

TEST(Correlation, SpearmanByHand) {
  // d = (-1, 1, -1, 1, 0): rho = 1 - 6 * 4 / (5 * 24) = 0.8
  EXPECT_NEAR(spearman_r({1, 2, 3, 4, 5}, {2, 1, 4, 3, 5}), 0.8, 1e-15);
  // Ties: ranks x = (1, 2.5, 2.5, 4), y = (1, 3, 2, 4): 4.5 / sqrt(4.5 * 5)
  EXPECT_NEAR(spearman_r({1, 2, 2, 3}, {1, 3, 2, 4}), 4.5 / std::sqrt(22.5), 1e-15);
  EXPECT_NEAR(spearman_r({1, 2, 3}, {30, 20, 10}), -1.0, 1e-15);
}

TEST(Correlation, KendallByHand) {
  // One discordant pair of six: S = 5 - 1 = 4, tau = 4 / 6
  EXPECT_NEAR(kendall_tau_b({1, 2, 3, 4}, {1, 3, 2, 4}), 4.0 / 6, 1e-15);
  // One pair tied in x: S = 5, tau_b = 5 / sqrt((6 - 1) * 6)
  EXPECT_NEAR(kendall_tau_b({1, 2, 2, 3}, {1, 3, 2, 4}), 5.0 / std::sqrt(30.0), 1e-15);
}

TEST(Correlation, ExactPValuesOnSmallN) {
  // n = 5, rho = 0.8: 16 of the 120 orderings reach |rho| >= 0.8 (Zar's table:
  // one-sided P = 0.0667).
  auto c = correlate({1, 2, 3, 4, 5}, {2, 1, 4, 3, 5}, Method::Spearman);
  EXPECT_TRUE(c.exact);
  EXPECT_NEAR(c.p, 16.0 / 120, 1e-15);
  // n = 4, identical order: only the identity and the reversal reach |rho| = 1.
  c = correlate({1, 2, 3, 4}, {1, 2, 3, 4}, Method::Spearman);
  EXPECT_NEAR(c.p, 2.0 / 24, 1e-15);
  // Kendall n = 4, one inversion: orderings with 0, 1, 5 or 6 inversions: 1+3+3+1 of 24.
  c = correlate({1, 2, 3, 4}, {1, 3, 2, 4}, Method::Kendall);
  EXPECT_NEAR(c.p, 8.0 / 24, 1e-15);
  // With ties (enumerated independently): 184 of 720.
  c = correlate({1, 2, 2, 3, 4, 5}, {3, 1, 2, 2, 6, 5}, Method::Spearman);
  EXPECT_NEAR(c.r, 0.5441176470588235, 1e-12);
  EXPECT_NEAR(c.p, 184.0 / 720, 1e-15);
}

TEST(Correlation, StudentTPValue) {
  // Pearson r = 0.8 on n = 5: t = 0.8 sqrt(3 / 0.36), df = 3, whose CDF has a
  // closed form: 1/2 + (t / (sqrt3 (1 + t^2/3)) + atan(t / sqrt3)) / pi.
  const std::vector<double> x{1, 2, 3, 4, 5};
  const std::vector<double> y{2, 1, 4, 3, 5};
  const auto c = correlate(x, y, Method::Pearson);
  EXPECT_NEAR(c.r, 0.8, 1e-15);
  EXPECT_FALSE(c.exact);
  const double t = 0.8 * std::sqrt(3 / 0.36);
  const double cdf =
      0.5 + (t / (std::sqrt(3.0) * (1 + t * t / 3)) + std::atan(t / std::sqrt(3.0))) / M_PI;
  EXPECT_NEAR(c.p, 2 * (1 - cdf), 1e-12);
}

TEST(Correlation, KendallNormalApproximation) {
  // No ties, n = 20: var(S) = n (n-1) (2n+5) / 18.
  std::vector<double> x(20), y(20);
  for (int i = 0; i < 20; ++i) {
    x[static_cast<std::size_t>(i)] = i;
    y[static_cast<std::size_t>(i)] = i < 14 ? i + 6 : i - 14;  // a permutation: no ties
  }
  const auto c = correlate(x, y, Method::Kendall);
  const double s = c.r * 190;  // no ties: tau = S / n0
  const double z = s / std::sqrt(20.0 * 19 * 45 / 18);
  EXPECT_NEAR(c.p, std::erfc(std::fabs(z) / std::sqrt(2.0)), 1e-12);
}

TEST(Correlation, ConstantGivesNaNAndBadInputThrows) {
  const auto c =
      correlate({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Method::Spearman);
  EXPECT_TRUE(std::isnan(c.r));
  EXPECT_TRUE(std::isnan(c.p));
  EXPECT_THROW(correlate({1, 2, 3}, {1, 2}, Method::Pearson), prh::InputError);
  EXPECT_THROW(correlate({1, 2}, {1, 2}, Method::Pearson), prh::InputError);
  EXPECT_THROW(parse_method("distance"), prh::InputError);
  EXPECT_EQ(parse_method("kendall"), Method::Kendall);
}

// tau-b from its O(n^2) definition, for comparison with the O(n log n) count.
static double naive_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  double s = 0, n1 = 0, n2 = 0;
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      n1 += dx == 0;
      n2 += dy == 0;
      if (dx != 0 && dy != 0) s += (dx > 0) == (dy > 0) ? 1 : -1;
    }
  const double n0 = static_cast<double>(n) * static_cast<double>(n - 1) / 2;
  const double d = std::sqrt((n0 - n1) * (n0 - n2));
  return d > 0 ? std::clamp(s / d, -1.0, 1.0) : std::nan("");
}

TEST(Correlation, KendallEqualsTheQuadraticDefinitionWithTies) {
  std::mt19937_64 rng(4);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 2 + rng() % 120;
    const int levels = 1 + static_cast<int>(rng() % 12);  // few levels: many ties
    std::vector<double> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = static_cast<double>(rng() % levels);
      y[i] = trial % 3 == 0 ? x[i] + static_cast<double>(rng() % 2)
                            : static_cast<double>(rng() % (levels + 3));
    }
    const double want = naive_tau_b(x, y), got = kendall_tau_b(x, y);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(got)) << "trial " << trial;
    else
      EXPECT_EQ(got, want) << "trial " << trial << " n " << n;
  }
}

TEST(Correlation, CoefficientFiniteSkipsNonFiniteAndNeedsThree) {
  const double nan = std::nan("");
  const std::vector<double> x = {1, 2, nan, 4, 5}, y = {2, 1, 3, 5, 4};
  for (auto m : {Method::Pearson, Method::Spearman, Method::Kendall})
    EXPECT_EQ(coefficient_finite(x, y, m), correlate({1, 2, 4, 5}, {2, 1, 5, 4}, m).r);
  EXPECT_TRUE(std::isnan(coefficient_finite({1, nan, 3}, {1, 2, 3}, Method::Pearson)));
}
