// The relative-depth mapping of the layer profile (stats/layer_profile.hpp),
// against hand-computed tables and an independent rational comparison.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/stats/layer_profile.hpp"
#include "prh/stats/sweep.hpp"

using namespace prh::stats;

TEST(LayerProfile, DepthOfALayer) {
  EXPECT_DOUBLE_EQ(layer_depth(0, 2), 0.5);
  EXPECT_DOUBLE_EQ(layer_depth(1, 2), 1.0);
  EXPECT_DOUBLE_EQ(layer_depth(2, 6), 0.5);
  EXPECT_DOUBLE_EQ(layer_depth(0, 1), 1.0);
  EXPECT_THROW(layer_depth(2, 2), prh::InputError);
  const auto g = depth_grid(4);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_DOUBLE_EQ(g[0], 0.25);
  EXPECT_DOUBLE_EQ(g[3], 1.0);
}

// By hand: layer l of L covers (l / L, (l + 1) / L]; the grid (g + 1) / 6.
TEST(LayerProfile, LayerAtDepthByHand) {
  // L = 2: 1/6, 2/6, 3/6 in (0, 1/2] -> 0; 4/6, 5/6, 1 -> 1
  const std::vector<int> l2{0, 0, 0, 1, 1, 1};
  // L = 4: 1/6 -> 0; 2/6, 3/6 in (1/4, 1/2] -> 1; 4/6 -> 2; 5/6, 1 -> 3
  const std::vector<int> l4{0, 1, 1, 2, 3, 3};
  // L = 6: the identity; L = 1: always 0
  for (int g = 0; g < 6; ++g) {
    EXPECT_EQ(layer_at_depth(g, 6, 2), l2[static_cast<std::size_t>(g)]) << g;
    EXPECT_EQ(layer_at_depth(g, 6, 4), l4[static_cast<std::size_t>(g)]) << g;
    EXPECT_EQ(layer_at_depth(g, 6, 6), g);
    EXPECT_EQ(layer_at_depth(g, 6, 1), 0);
  }
  EXPECT_THROW(layer_at_depth(6, 6, 2), prh::InputError);
  EXPECT_THROW(layer_at_depth(0, 6, 0), prh::InputError);
}

// Independently: the shallowest layer whose depth reaches the grid point,
// (l + 1) / L >= (g + 1) / G compared in integers; first and last points.
TEST(LayerProfile, LayerAtDepthIsTheShallowestLayerReachingIt) {
  for (int G = 1; G <= 12; ++G)
    for (int L = 1; L <= G; ++L) {
      for (int g = 0; g < G; ++g) {
        int want = -1;
        for (int l = 0; l < L && want < 0; ++l)
          if (static_cast<std::int64_t>(l + 1) * G >= static_cast<std::int64_t>(g + 1) * L)
            want = l;
        EXPECT_EQ(layer_at_depth(g, G, L), want) << "g " << g << " G " << G << " L " << L;
      }
      EXPECT_EQ(layer_at_depth(0, G, L), 0);          // G >= L: the first layer
      EXPECT_EQ(layer_at_depth(G - 1, G, L), L - 1);  // depth 1: the last layer
      // with G >= L every layer is some grid point's
      std::vector<int> hit(static_cast<std::size_t>(L), 0);
      for (int g = 0; g < G; ++g) hit[static_cast<std::size_t>(layer_at_depth(g, G, L))] = 1;
      for (int l = 0; l < L; ++l) EXPECT_TRUE(hit[static_cast<std::size_t>(l)]) << l;
    }
}

// A 3-model tensor [M, M, Lmax, Lmax] with layer counts 1, 2, 0 (absent):
// T[i, j, l, m] = 1000 i + 100 j + 10 l + m where the layers exist, NaN padding.
TEST(LayerProfile, SameDepthScoresPickTheLayersAndKeepNaN) {
  const int M = 3, Lm = 2;
  const std::vector<std::int64_t> counts{1, 2, 0};
  std::vector<double> t(static_cast<std::size_t>(M * M * Lm * Lm), std::nan(""));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j)
      for (int l = 0; l < counts[static_cast<std::size_t>(i)]; ++l)
        for (int m = 0; m < counts[static_cast<std::size_t>(j)]; ++m)
          t[static_cast<std::size_t>(((i * M + j) * Lm + l) * Lm + m)] =
              1000.0 * i + 100.0 * j + 10.0 * l + m;
  // G = 2: g = 0 -> model 0 layer 0, model 1 layer 0; g = 1 -> 0 and 1
  const auto s0 = same_depth_scores(t, counts, Lm, 0, 2);
  const auto s1 = same_depth_scores(t, counts, Lm, 1, 2);
  EXPECT_EQ(s0[0 * M + 1], 100.0);   // (0, 1): layers (0, 0)
  EXPECT_EQ(s1[0 * M + 1], 101.0);   // (0, 1): layers (0, 1)
  EXPECT_EQ(s1[1 * M + 0], 1010.0);  // (1, 0): layers (1, 0)
  EXPECT_EQ(s1[1 * M + 1], 1111.0);
  EXPECT_EQ(s0[1 * M + 1], 1100.0);
  for (int k = 0; k < M; ++k) {  // the absent model: NaN row and column
    EXPECT_TRUE(std::isnan(s0[static_cast<std::size_t>(2 * M + k)]));
    EXPECT_TRUE(std::isnan(s1[static_cast<std::size_t>(k * M + 2)]));
  }
  EXPECT_THROW(same_depth_scores(t, {1, 3, 0}, Lm, 0, 2), prh::InputError);
  EXPECT_THROW(same_depth_scores(std::vector<double>(5), counts, Lm, 0, 2), prh::InputError);
}

// The summary is stats::sweep_curves over the grid: its mean at a point is the
// mean of the off-diagonal finite same-depth scores, computed here by hand.
TEST(LayerProfile, MeanOverPairsAtEachDepth) {
  const int M = 3, Lm = 2;
  const std::vector<std::int64_t> counts{2, 2, 1};
  std::vector<double> t(static_cast<std::size_t>(M * M * Lm * Lm), std::nan(""));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j)
      for (int l = 0; l < counts[static_cast<std::size_t>(i)]; ++l)
        for (int m = 0; m < counts[static_cast<std::size_t>(j)]; ++m)
          t[static_cast<std::size_t>(((i * M + j) * Lm + l) * Lm + m)] =
              0.1 * (l + 1) + 0.01 * (m + 1) + 0.001 * (i + j);
  SweepInput x;
  x.levels = depth_grid(Lm);
  x.M = M;
  for (int g = 0; g < Lm; ++g) x.scores.push_back({same_depth_scores(t, counts, Lm, g, Lm)});
  BootstrapOptions bo;
  bo.resamples = 0;
  const auto c = sweep_curves(x, bo);
  // g = 0: models 0, 1 at layer 0, model 2 at its only layer 0
  double sum0 = 0, sum1 = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j) {
      if (i == j) continue;
      sum0 += 0.1 + 0.01 + 0.001 * (i + j);
      const int li = i == 2 ? 0 : 1, lj = j == 2 ? 0 : 1;
      sum1 += 0.1 * (li + 1) + 0.01 * (lj + 1) + 0.001 * (i + j);
    }
  EXPECT_NEAR(c.mean[0], sum0 / 6, 1e-15);
  EXPECT_NEAR(c.mean[1], sum1 / 6, 1e-15);
}
