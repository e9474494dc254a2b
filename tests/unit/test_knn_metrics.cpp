#include <gtest/gtest.h>

#include "helpers.hpp"
#include "naive.hpp"
#include "prh/core/error.hpp"
#include "prh/metrics/knn_metrics.hpp"

using namespace prh::metrics;
using testing_helpers::lists;

namespace {
// Hand-made lists, N = 4, k = 2 (worked out in the comments below).
const auto kA = lists({{1, 2}, {0, 2}, {1, 0}, {2, 1}});
const auto kB = lists({{2, 1}, {0, 3}, {3, 0}, {2, 0}});
}  // namespace

TEST(KnnMetrics, MutualByHand) {
  // |{1,2}∩{2,1}| = 2, then 1, 1, 1 -> (1 + .5 + .5 + .5) / 4
  EXPECT_DOUBLE_EQ(mutual_knn(kA, kB, 2), 0.625);
  EXPECT_DOUBLE_EQ(mutual_knn(kA, kB, 1), 0.5);  // top-1: 1/2, 0/0, 1/3, 2/2 -> rows 1, 3
}

TEST(KnnMetrics, CycleByHand) {
  // i=0: B-nbr 2 has A-nbrs {1,0} ∋ 0. i=1: B-nbr 0 has {1,2} ∋ 1. i=2: B-nbr 3 has
  // {2,1} ∋ 2. i=3: B-nbrs 2, 0 have {1,0}, {1,2}: no 3. -> 3/4.
  EXPECT_DOUBLE_EQ(cycle_knn(kA, kB, 2), 0.75);
  // Not symmetric: swap roles. i=0: A-nbrs 1,2 have B {0,3},{3,0} ∋ 0 -> 1; i=1: A-nbr 0
  // has {2,1} ∋ 1; i=2: A-nbr 1 {0,3} no, 0 {2,1} yes; i=3: A-nbrs 2 {3,0} ∋ 3. -> 1.
  EXPECT_DOUBLE_EQ(cycle_knn(kB, kA, 2), 1.0);
}

TEST(KnnMetrics, LcsByHand) {
  // LCS([1,2],[2,1]) = 1, ([0,2],[0,3]) = 1, ([1,0],[3,0]) = 1, ([2,1],[2,0]) = 1.
  EXPECT_DOUBLE_EQ(lcs_knn(kA, kB, 2), 0.5);
  EXPECT_DOUBLE_EQ(lcs_knn(kA, kA, 2), 1.0);
}

TEST(KnnMetrics, EditDistanceByHand) {
  // Lev = 2, 1, 1, 1 -> 1 - 5 / (4 * 2)
  EXPECT_DOUBLE_EQ(edit_distance_knn(kA, kB, 2), 0.375);
  EXPECT_DOUBLE_EQ(edit_distance_knn(kA, kA, 2), 1.0);
}

TEST(KnnMetrics, IdenticalInputsGiveOne) {
  const MatrixF x = naive::normalized(naive::random_matrix(100, 8, 1));
  const auto nn = knn(x, 10);
  EXPECT_DOUBLE_EQ(mutual_knn(nn, nn, 10), 1.0);
  EXPECT_DOUBLE_EQ(lcs_knn(nn, nn, 10), 1.0);
  EXPECT_DOUBLE_EQ(edit_distance_knn(nn, nn, 10), 1.0);
  // cycle_knn(A, A) is 1 only when some neighbour of i has i as a neighbour: for
  // mutual nearest pairs it always does, so it is at least the share of rows whose
  // first neighbour has them in its list.
  EXPECT_GT(cycle_knn(nn, nn, 10), 0.9);
}

TEST(KnnMetrics, MatchNaiveOnRandomData) {
  const auto [a, b] = naive::related_pair(157, 12, 9, 3);
  for (int k : {1, 5, 20, 156}) {
    const auto na = knn(a, k), nb = knn(b, k);
    const auto wa = naive::knn(a, k), wb = naive::knn(b, k);
    double mutual = 0, cycle = 0, lcs = 0, lev = 0;
    for (Index i = 0; i < a.rows(); ++i) {
      const auto& ra = wa[static_cast<std::size_t>(i)];
      const auto& rb = wb[static_cast<std::size_t>(i)];
      int common = 0;
      for (int j : ra) common += std::count(rb.begin(), rb.end(), j);
      mutual += static_cast<double>(common) / k;
      bool hit = false;
      for (int j : rb) {
        const auto& back = wa[static_cast<std::size_t>(j)];
        hit |= std::find(back.begin(), back.end(), i) != back.end();
      }
      cycle += hit;
      lcs += static_cast<double>(naive::lcs_dp(ra, rb)) / k;
      lev += static_cast<double>(naive::lev_dp(ra, rb)) / k;
    }
    const double n = static_cast<double>(a.rows());
    EXPECT_NEAR(mutual_knn(na, nb, k), mutual / n, 1e-12) << "k = " << k;
    EXPECT_NEAR(cycle_knn(na, nb, k), cycle / n, 1e-12) << "k = " << k;
    EXPECT_NEAR(lcs_knn(na, nb, k), lcs / n, 1e-12) << "k = " << k;
    EXPECT_NEAR(edit_distance_knn(na, nb, k), 1 - lev / n, 1e-12) << "k = " << k;
  }
}

TEST(KnnMetrics, KEqualsNMinusOneMutualIsOne) {
  const auto [a, b] = naive::related_pair(30, 4, 4, 9);
  EXPECT_DOUBLE_EQ(mutual_knn(knn(a, 29), knn(b, 29), 29), 1.0);
}

TEST(KnnMetrics, UsesPrefixOfLongerLists) {
  const auto [a, b] = naive::related_pair(80, 6, 6, 2);
  const auto la = knn(a, 30), lb = knn(b, 30);
  const auto sa = knn(a, 10), sb = knn(b, 10);
  EXPECT_DOUBLE_EQ(mutual_knn(la, lb, 10), mutual_knn(sa, sb, 10));
  EXPECT_DOUBLE_EQ(edit_distance_knn(la, lb, 10), edit_distance_knn(sa, sb, 10));
}

TEST(KnnMetrics, BadKIsAClearError) {
  EXPECT_THROW(mutual_knn(kA, kB, 4), prh::InputError);  // k > N - 1
  EXPECT_THROW(mutual_knn(kA, kB, 0), prh::InputError);
  const auto other = lists({{1}, {0}, {1}});
  EXPECT_THROW(mutual_knn(kA, other, 1), prh::InputError);  // N mismatch
}
