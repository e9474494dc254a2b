#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "naive.hpp"
#include "prh/metrics/sequence.hpp"

using namespace prh::metrics;

TEST(Sequence, HandComputed) {
  std::vector<std::int32_t> s;
  std::vector<int> r;
  const std::int32_t a[] = {1, 2, 3, 4, 5}, b[] = {2, 1, 3, 9, 5};
  EXPECT_EQ(lcs_distinct(a, b, 5, s), 3);  // 1 3 5 (or 2 3 5)
  EXPECT_EQ(levenshtein(a, b, 5, r), 3);   // swap costs 2, 4 -> 9 costs 1
  const std::int32_t c[] = {7, 8, 9}, d[] = {1, 2, 3};
  EXPECT_EQ(lcs_distinct(c, d, 3, s), 0);
  EXPECT_EQ(levenshtein(c, d, 3, r), 3);
  EXPECT_EQ(lcs_distinct(c, c, 3, s), 3);
  EXPECT_EQ(levenshtein(c, c, 3, r), 0);
  const std::int32_t e[] = {1, 2, 3, 4}, f[] = {2, 3, 4, 1};  // rotation: delete + insert
  EXPECT_EQ(lcs_distinct(e, f, 4, s), 3);
  EXPECT_EQ(levenshtein(e, f, 4, r), 2);
}

TEST(Sequence, MatchesBruteForceDP) {
  std::mt19937 rng(42);
  std::vector<std::int32_t> s;
  std::vector<int> r;
  for (int trial = 0; trial < 2000; ++trial) {
    const int k = 1 + static_cast<int>(rng() % 30);
    const int universe = k + static_cast<int>(rng() % (2 * k + 1));
    std::vector<int> pool(static_cast<std::size_t>(universe));
    std::iota(pool.begin(), pool.end(), 0);
    std::shuffle(pool.begin(), pool.end(), rng);
    std::vector<int> a(pool.begin(), pool.begin() + k);
    std::shuffle(pool.begin(), pool.end(), rng);
    std::vector<int> b(pool.begin(), pool.begin() + k);
    ASSERT_EQ(lcs_distinct(a.data(), b.data(), k, s), naive::lcs_dp(a, b)) << "trial " << trial;
    ASSERT_EQ(levenshtein(a.data(), b.data(), k, r), naive::lev_dp(a, b)) << "trial " << trial;
  }
}
