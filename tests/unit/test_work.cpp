// Work assignment (parallel/work.hpp) and the results file's pair indexing.

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <set>

#include "prh/parallel/work.hpp"
#include "prh/store/results_store.hpp"

namespace {

using prh::parallel::balanced_share;
using prh::parallel::weighted_share;

TEST(WeightedShare, EveryItemExactlyOnceInOrder) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = rng() % 40;
    const int ranks = 1 + static_cast<int>(rng() % 7);
    std::vector<double> w(n);
    for (auto& x : w) x = (rng() % 4 == 0) ? 0.0 : 1.0 + rng() % 100;
    std::size_t next = 0;
    for (int r = 0; r < ranks; ++r) {
      const auto [first, last] = weighted_share(w, r, ranks);
      if (first == last) continue;
      EXPECT_EQ(first, next) << "trial " << trial << " rank " << r;
      EXPECT_LT(first, last);
      next = last;
    }
    EXPECT_EQ(next, n) << "trial " << trial;
  }
}

TEST(WeightedShare, BalancesEqualWeights) {
  const std::vector<double> w(12, 1.0);
  for (int r = 0; r < 3; ++r) {
    const auto [first, last] = weighted_share(w, r, 3);
    EXPECT_EQ(last - first, 4u);
    EXPECT_EQ(first, static_cast<std::size_t>(4 * r));
  }
}

TEST(WeightedShare, AllZeroWeightsStillAssigned) {
  const std::vector<double> w(5, 0.0);
  std::size_t count = 0;
  for (int r = 0; r < 2; ++r) {
    const auto [first, last] = weighted_share(w, r, 2);
    count += last - first;
  }
  EXPECT_EQ(count, 5u);
}

TEST(BalancedShare, PartitionAndLongestFirst) {
  const std::vector<double> c = {5, 1, 9, 3, 3, 7};
  // LPT by hand: 9 -> r0 (9), 7 -> r1 (7), 5 -> r1 (12), 3 -> r0 (12),
  // 3 -> r0 (tie 12/12: lower rank; 15), 1 -> r1 (13).
  std::set<std::size_t> all;
  for (int r = 0; r < 2; ++r)
    for (auto i : balanced_share(c, r, 2)) EXPECT_TRUE(all.insert(i).second);
  EXPECT_EQ(all.size(), c.size());
  EXPECT_EQ(balanced_share(c, 0, 2), (std::vector<std::size_t>{2, 3, 4}));
  EXPECT_EQ(balanced_share(c, 1, 2), (std::vector<std::size_t>{5, 0, 1}));
  EXPECT_EQ(balanced_share(c, 0, 1), (std::vector<std::size_t>{2, 5, 0, 3, 4, 1}));
}

TEST(ResultsLayout, PairIndexRoundTrip) {
  for (int m = 1; m <= 9; ++m) {
    prh::store::ResultsLayout L;
    L.models.resize(static_cast<std::size_t>(m));
    EXPECT_EQ(L.pairs(), m * (m + 1) / 2);
    std::int64_t p = 0;
    for (int i = 0; i < m; ++i)
      for (int j = i; j < m; ++j, ++p) {
        EXPECT_EQ(L.pair_index(i, j), p);
        EXPECT_EQ(L.pair_at(p), std::make_pair(i, j));
      }
  }
}

}  // namespace
