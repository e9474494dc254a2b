#include <gtest/gtest.h>

#include <cmath>

#include "float_bounds.hpp"
#include "naive.hpp"
#include "prh/core/error.hpp"
#include "prh/metrics/knn.hpp"

using namespace prh::metrics;

namespace {
std::vector<int> row(const NeighborLists& l, Index i) {
  return std::vector<int>(l.row(i), l.row(i) + l.k);
}
}  // namespace

TEST(Knn, HandComputedAngles) {
  // Unit vectors at 0, 10, 30 and 100 degrees.
  const double deg[] = {0, 10, 30, 100};
  MatrixF x(4, 2);
  for (int i = 0; i < 4; ++i) {
    x(i, 0) = static_cast<float>(std::cos(deg[i] * M_PI / 180));
    x(i, 1) = static_cast<float>(std::sin(deg[i] * M_PI / 180));
  }
  const auto nn = knn(x, 2);
  EXPECT_EQ(row(nn, 0), (std::vector<int>{1, 2}));
  EXPECT_EQ(row(nn, 1), (std::vector<int>{0, 2}));
  EXPECT_EQ(row(nn, 2), (std::vector<int>{1, 0}));
  EXPECT_EQ(row(nn, 3), (std::vector<int>{2, 1}));
  EXPECT_NEAR(nn.row_sim(0)[0], std::cos(10 * M_PI / 180), 1e-6);
  // k = N - 1: every other row, self excluded.
  const auto all = knn(x, 3);
  EXPECT_EQ(row(all, 3), (std::vector<int>{2, 1, 0}));
}

TEST(Knn, TiesGoToLowerIndex) {
  MatrixF x(5, 2);
  x << 1, 0, 0, 1, 0, 1, 0, 1, 1, 0;  // rows 1, 2, 3 identical; 0 and 4 identical
  const auto nn = knn(x, 2);
  EXPECT_EQ(row(nn, 1), (std::vector<int>{2, 3}));
  EXPECT_EQ(row(nn, 2), (std::vector<int>{1, 3}));
  EXPECT_EQ(row(nn, 3), (std::vector<int>{1, 2}));
  EXPECT_EQ(row(nn, 0)[0], 4);
  EXPECT_EQ(row(nn, 0)[1], 1);  // sim 0 to rows 1, 2, 3: lowest index
  // Tile size must not change tie-breaking.
  const auto tiled = knn(x, 2, 2);
  EXPECT_EQ(nn.index, tiled.index);
}

TEST(Knn, BlockedEqualsNaiveDense) {
  // N not a multiple of the tile: 333 with tiles of 64, and 2500 with the default tile.
  for (auto [n, tile] : {std::pair<Index, Index>{333, 64}, {2500, kGramTile}}) {
    const MatrixF x = naive::normalized(naive::random_matrix(n, 24, 7));
    const int k = 15;
    const auto got = knn(x, k, tile);
    const auto want = naive::knn(x, k);
    const naive::Dense g = naive::gram(x);
    int mismatches = 0;
    for (Index i = 0; i < n; ++i) {
      for (int c = 0; c < k; ++c) {
        const int j = got.row(i)[c];
        EXPECT_NE(j, i);
        EXPECT_NEAR(got.row_sim(i)[c], g(i, j), prh::testing::dot_difference_bound(24, 1.0 + 1e-6));
        // A different neighbour at position c is a near tie that the float32
        // similarities (any BLAS kernel) may order otherwise than the naive
        // one's: their similarities within the dot-product bound of unit rows
        // (float_bounds.hpp); anything else is a mismatch.
        const int w = want[static_cast<std::size_t>(i)][static_cast<std::size_t>(c)];
        mismatches += j != w && std::abs(g(i, j) - g(i, w)) >
                                    prh::testing::dot_difference_bound(24, 1.0 + 1e-6);
      }
    }
    EXPECT_EQ(mismatches, 0) << "n = " << n;
  }
}

TEST(Knn, TileSizeDoesNotChangeResult) {
  const MatrixF x = naive::normalized(naive::random_matrix(300, 16, 11));
  const auto a = knn(x, 20, 300), b = knn(x, 20, 37), c = knn(x, 20, 1);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.index, c.index);
  // The GEMM may round an entry differently at another position in a tile (so
  // the tile size is a fixed constant, never a tuning knob per run).
  for (std::size_t i = 0; i < a.sim.size(); ++i) EXPECT_NEAR(a.sim[i], b.sim[i], 1e-6);
}

TEST(Knn, PrefixIsTopKOfSmallerK) {
  const MatrixF x = naive::normalized(naive::random_matrix(200, 10, 5));
  const auto big = knn(x, 50);
  const auto small = knn(x, 7);
  EXPECT_EQ(big.prefix(7).index, small.index);
}

TEST(Knn, InvalidKIsAClearError) {
  const MatrixF x = naive::random_matrix(10, 3, 1);
  EXPECT_THROW(knn(x, 0), prh::InputError);
  EXPECT_THROW(knn(x, 10), prh::InputError);
  EXPECT_NO_THROW(knn(x, 9));
}
