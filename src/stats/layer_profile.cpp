#include "prh/stats/layer_profile.hpp"

#include <limits>

#include "prh/core/error.hpp"

namespace prh::stats {

double layer_depth(int l, int L) {
  PRH_CHECK_INPUT(L >= 1 && l >= 0 && l < L, "layer {} of a model with {} layers", l, L);
  return static_cast<double>(l + 1) / static_cast<double>(L);
}

std::vector<double> depth_grid(int G) {
  PRH_CHECK_INPUT(G >= 1, "a depth grid needs at least one point, got {}", G);
  std::vector<double> f(static_cast<std::size_t>(G));
  for (int g = 0; g < G; ++g) f[static_cast<std::size_t>(g)] = static_cast<double>(g + 1) / G;
  return f;
}

int layer_at_depth(int g, int G, int L) {
  PRH_CHECK_INPUT(G >= 1 && g >= 0 && g < G, "grid point {} of {}", g, G);
  PRH_CHECK_INPUT(L >= 1, "a model with {} layers has no depth", L);
  const std::int64_t num = static_cast<std::int64_t>(g + 1) * L;
  return static_cast<int>((num + G - 1) / G) - 1;  // ceil((g + 1) L / G) - 1
}

std::vector<double> same_depth_scores(const std::vector<double>& layers,
                                      const std::vector<std::int64_t>& layer_counts, int Lmax,
                                      int g, int G) {
  const auto M = layer_counts.size();
  const auto Lm = static_cast<std::size_t>(Lmax);
  PRH_CHECK_INPUT(layers.size() == M * M * Lm * Lm,
                  "layer scores: {} values for {} models of at most {} layers", layers.size(), M,
                  Lmax);
  std::vector<int> at(M, -1);
  for (std::size_t i = 0; i < M; ++i) {
    PRH_CHECK_INPUT(layer_counts[i] >= 0 && layer_counts[i] <= Lmax,
                    "model {}: {} layers, more than {}", i, layer_counts[i], Lmax);
    if (layer_counts[i] > 0) at[i] = layer_at_depth(g, G, static_cast<int>(layer_counts[i]));
  }
  std::vector<double> s(M * M, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < M; ++j)
      if (at[i] >= 0 && at[j] >= 0)
        s[i * M + j] = layers[((i * M + j) * Lm + static_cast<std::size_t>(at[i])) * Lm +
                              static_cast<std::size_t>(at[j])];
  return s;
}

}  // namespace prh::stats
