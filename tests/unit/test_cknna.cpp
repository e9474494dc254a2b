#include <gtest/gtest.h>

#include <cmath>

#include <fmt/format.h>
#include "helpers.hpp"

#include "naive.hpp"
#include "prh/core/error.hpp"
#include "prh/metrics/cknna.hpp"

using namespace prh::metrics;
using testing_helpers::lists;
using testing_helpers::raw;
using testing_helpers::score;

TEST(Cknna, DisjointMasksGiveZero) {
  // No row shares a neighbour between A and B: every masked entry is 0, so
  // HSIC_u(M o K, M o L) = 0 exactly.
  const auto a = lists({{1, 2}, {0, 2}, {0, 1}, {4, 0}, {3, 0}});
  const auto b = lists({{3, 4}, {3, 4}, {3, 4}, {1, 2}, {1, 2}});
  EXPECT_EQ(cknna(a, b, 2), 0.0);
}

TEST(Cknna, SparseHsicByHand) {
  // N = 4, k = 2, A = B with mask rows 0:{1,2} 1:{0,2} 2:{0,1} 3:{0,1}, all K = 1.
  // X = M (0/1). sum_ij X_ij X_ji: symmetric pairs (0,1),(0,2),(1,2) both ways = 6.
  // sum X = 8. column sums: c = (3, 3, 2, 0); row sums r = (2, 2, 2, 2); c.r = 16.
  // HSIC_u = (6 + 64/6 - 2/2 * 16) / (4 * 1) = (6 + 10.6667 - 16) / 4 = 1/6.
  const auto a = lists({{1, 2}, {0, 2}, {0, 1}, {0, 1}}, {{1, 1}, {1, 1}, {1, 1}, {1, 1}});
  EXPECT_NEAR(cknna_self(a, 2), 1.0 / 6, 1e-15);
  EXPECT_NEAR(cknna(a, a, 2), (1.0 / 6) / (1.0 / 6 + 1e-6), 1e-15);
}

TEST(Cknna, IdenticalInputsGiveOne) {
  const MatrixF x = naive::random_matrix(120, 8, 6);
  EXPECT_NEAR(score(x, x, "cknna:k=10"), 1.0, 1e-4);
}

TEST(Cknna, MatchesNaiveDense) {
  const auto [a, b] = naive::related_pair(97, 10, 7, 21);
  for (int k : {2, 5, 10, 40, 96}) {
    EXPECT_NEAR(score(a, b, fmt::format("cknna:k={}", k), raw()), naive::cknna(a, b, k), 1e-7)
        << "k = " << k;
  }
}

TEST(Cknna, IsNotExactlySymmetric) {
  // The transpose in sum K~_ij L~_ji with non-symmetric masks: metrics.md says
  // cknna(A,B) and cknna(B,A) may differ slightly; both must match the formula.
  const auto [a, b] = naive::related_pair(80, 6, 6, 5);
  EXPECT_NEAR(score(a, b, "cknna:k=7", raw()), naive::cknna(a, b, 7), 1e-7);
  EXPECT_NEAR(score(b, a, "cknna:k=7", raw()), naive::cknna(b, a, 7), 1e-7);
}

TEST(Cknna, NeedsKAtLeastTwoAndNAtLeastFour) {
  const auto a = lists({{1, 2}, {0, 2}, {0, 1}, {0, 1}});
  EXPECT_THROW(cknna(a, a, 1), prh::InputError);
  const auto tiny = lists({{1, 2}, {0, 2}, {0, 1}});
  EXPECT_THROW(cknna(tiny, tiny, 2), prh::InputError);
  EXPECT_THROW(parse_metric("cknna:k=1"), prh::InputError);
}
