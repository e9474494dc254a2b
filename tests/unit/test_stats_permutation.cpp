#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

#include "prh/core/error.hpp"
#include "prh/stats/permutation.hpp"

using namespace prh::stats;

TEST(Permutation, SplitmixKnownValues) {
  // Reference values of splitmix64 (Vigna's splitmix64.c, state 0 then one
  // increment: the first output for seed 0 is 0xe220a8397b1dcdaf).
  EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafULL);
}

TEST(Permutation, IsAPermutationAndDeterministic) {
  for (std::int64_t n : {0, 1, 2, 7, 100}) {
    const auto p = seeded_permutation(42, 3, n);
    std::vector<std::int32_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int32_t> id(static_cast<std::size_t>(n));
    std::iota(id.begin(), id.end(), 0);
    EXPECT_EQ(sorted, id);
    EXPECT_EQ(p, seeded_permutation(42, 3, n));
  }
  EXPECT_NE(seeded_permutation(42, 3, 100), seeded_permutation(42, 4, 100));
  EXPECT_NE(seeded_permutation(42, 3, 100), seeded_permutation(43, 3, 100));
}

TEST(Permutation, FisherYatesByHand) {
  // The shuffle is defined by its steps: replay them on a copy of the generator.
  std::mt19937_64 rng(stream_seed(7, 0)), replay(stream_seed(7, 0));
  const auto p = random_permutation(rng, 5);
  std::vector<std::int32_t> q{0, 1, 2, 3, 4};
  for (int i = 4; i >= 1; --i) {
    const std::uint64_t x = replay();  // 2^64 mod (i+1) rejection never triggers in practice
    std::swap(q[static_cast<std::size_t>(i)], q[x % static_cast<std::uint64_t>(i + 1)]);
  }
  EXPECT_EQ(p, q);
}

TEST(Permutation, UniformOverSmallPermutations) {
  // All 6 permutations of 3 items, 60000 draws: each about 10000 (chi-square, 5 df,
  // loose bound 30: p < 2e-5).
  std::mt19937_64 rng(1);
  std::map<std::vector<std::int32_t>, int> counts;
  for (int t = 0; t < 60000; ++t) ++counts[random_permutation(rng, 3)];
  ASSERT_EQ(counts.size(), 6u);
  double chi2 = 0;
  for (const auto& [p, c] : counts) chi2 += (c - 10000.0) * (c - 10000.0) / 10000.0;
  EXPECT_LT(chi2, 30.0);
}

TEST(Permutation, Inverse) {
  const auto p = seeded_permutation(1, 1, 50);
  const auto inv = inverse_permutation(p);
  for (std::size_t i = 0; i < p.size(); ++i)
    EXPECT_EQ(inv[static_cast<std::size_t>(p[i])], static_cast<std::int32_t>(i));
  EXPECT_THROW(inverse_permutation({0, 0, 1}), prh::InputError);
  EXPECT_THROW(inverse_permutation({0, 3}), prh::InputError);
}
