#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

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

// The pair scorer takes A's lists in column order (column_ordered, memoised
// per representation): each row holds the first k neighbours, ascending by
// column, each with its similarity.
TEST(Cknna, ColumnOrderedRowsAreTheTopKByColumn) {
  const MatrixF x = naive::random_matrix(60, 5, 11);
  const auto l = knn(x, 12);
  for (int k : {2, 7, 12}) {
    const auto c = column_ordered(l, k);
    ASSERT_EQ(c.n, l.n);
    ASSERT_EQ(c.k, k);
    for (Index i = 0; i < l.n; ++i) {
      std::vector<std::pair<std::int32_t, float>> want;
      for (int j = 0; j < k; ++j) want.push_back({l.row(i)[j], l.row_sim(i)[j]});
      std::sort(want.begin(), want.end());
      for (int j = 0; j < k; ++j) {
        EXPECT_EQ(c.col[static_cast<std::size_t>(i * k + j)],
                  want[static_cast<std::size_t>(j)].first);
        EXPECT_EQ(c.sim[static_cast<std::size_t>(i * k + j)],
                  want[static_cast<std::size_t>(j)].second);
      }
    }
  }
}

// The mask rows are put in column order whatever order the lists hold their
// first k neighbours in: reversing each row's top-k (a list of the same
// neighbours) leaves every score equal to the last bit, which is what lets
// the scorer build the mask from column-ordered lists without a sort.
TEST(Cknna, ScoreDoesNotDependOnTheOrderWithinTopK) {
  const auto [xa, xb] = naive::related_pair(90, 8, 6, 3);
  const auto a = knn(xa, 30), b = knn(xb, 30);
  for (int k : {2, 9, 30}) {
    auto reversed = [k](NeighborLists l) {
      for (Index i = 0; i < l.n; ++i) {
        std::reverse(l.index.begin() + i * l.k, l.index.begin() + i * l.k + k);
        std::reverse(l.sim.begin() + i * l.k, l.sim.begin() + i * l.k + k);
      }
      return l;
    };
    const double want = cknna(a, b, k);
    EXPECT_EQ(cknna(reversed(a), b, k), want) << "k = " << k;
    EXPECT_EQ(cknna(a, reversed(b), k), want) << "k = " << k;
    EXPECT_EQ(cknna(column_ordered(a, k), b, k, cknna_self(a, k), cknna_self(b, k)), want);
    EXPECT_EQ(cknna_self(reversed(a), k), cknna_self(a, k));
  }
}
