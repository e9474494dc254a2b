#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "prh/core/error.hpp"
#include "prh/stats/mantel.hpp"
#include "stats_ks.hpp"

using namespace prh::stats;

namespace {

std::vector<double> random_symmetric(std::mt19937_64& rng, int M) {
  std::normal_distribution<double> g;  // values only; not part of the method
  std::vector<double> s(static_cast<std::size_t>(M * M), 1.0);
  for (int i = 0; i < M; ++i)
    for (int j = i + 1; j < M; ++j) s[i * M + j] = s[j * M + i] = g(rng);
  return s;
}

}  // namespace

TEST(Mantel, EqualMatricesGiveTheSmallestP) {
  std::mt19937_64 rng(3);
  const int M = 10, R = 999;
  const auto s = random_symmetric(rng, M);
  for (auto m : {Method::Spearman, Method::Pearson, Method::Kendall}) {
    const auto res = mantel(s, s, M, m, R, 11);
    EXPECT_DOUBLE_EQ(res.r, 1.0);
    EXPECT_EQ(res.permutations, R);
    EXPECT_LE(res.p, 3.0 / (R + 1)) << method_name(m);  // only (near-)automorphisms reach r = 1
  }
}

TEST(Mantel, UniformUnderIndependence) {
  const int M = 8, R = 199, runs = 300;
  std::mt19937_64 rng(17);
  std::vector<double> p;
  for (int r = 0; r < runs; ++r) {
    const auto a = random_symmetric(rng, M), b = random_symmetric(rng, M);
    p.push_back(mantel(a, b, M, Method::Spearman, R, static_cast<std::uint64_t>(r)).p);
  }
  EXPECT_LT(prh::testing::ks_two_sided(p), 1.63 / std::sqrt(runs) + 1.0 / (R + 1));
}

TEST(Mantel, RelabelsRowsAndColumnsTogether) {
  // A matrix and a relabelling of it: same pairs, different order; the
  // observed r is not 1, but a Mantel test with the relabelled one undone
  // would be. Check the statistic on an asymmetric matrix uses [s(i)][s(j)].
  const int M = 3;
  const std::vector<double> a{0, 1, 2, 10, 0, 3, 20, 30, 0};  // upper: 1, 2, 3
  const std::vector<double> b{0, 3, 2, 30, 0, 1, 20, 10, 0};  // upper: 3, 2, 1
  const auto res = mantel(a, b, M, Method::Pearson, 50, 1);
  EXPECT_DOUBLE_EQ(res.r, -1.0);
  EXPECT_GT(res.p, 0.0);
}

TEST(Mantel, MatrixAgreesWithPairwise) {
  std::mt19937_64 rng(23);
  const int M = 7, R = 99;
  std::vector<std::vector<double>> mats;
  for (int k = 0; k < 3; ++k) mats.push_back(random_symmetric(rng, M));
  mats.push_back(mats[0]);
  const auto p = mantel_matrix(mats, M, Method::Spearman, R, 5);
  for (int a = 0; a < 4; ++a)
    for (int b = a; b < 4; ++b) {
      const double want = mantel(mats[a], mats[b], M, Method::Spearman, R, 5).p;
      EXPECT_DOUBLE_EQ(p[a * 4 + b], want) << a << "," << b;
      EXPECT_DOUBLE_EQ(p[b * 4 + a], want);
    }
  EXPECT_LE(p[0 * 4 + 3], 2.0 / (R + 1));
}

TEST(Mantel, Errors) {
  EXPECT_THROW(mantel({1, 2, 3}, {1, 2, 3, 4}, 2, Method::Spearman, 10, 0), prh::InputError);
  EXPECT_THROW(mantel({1, 2, 3, 4}, {1, 2, 3, 4}, 2, Method::Spearman, 0, 0), prh::InputError);
  // Too few pairs: r and p NaN, no error.
  const auto res = mantel({0, 1, 1, 0}, {0, 2, 2, 0}, 2, Method::Spearman, 10, 0);
  EXPECT_TRUE(std::isnan(res.r) && std::isnan(res.p));
}
