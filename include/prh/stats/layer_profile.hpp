#pragma once
// Alignment by relative depth (docs/results.md, "/layers and /layer_profile"):
// each model's layers mapped to depth fractions, and the same-relative-depth
// score of every model pair on a common grid.
//
// Depth of layer l (0-based) of a model with L layers: (l + 1) / L, so the
// last layer is at 1 and layer l covers the depth interval (l / L, (l + 1) / L].
// The grid has G points f_g = (g + 1) / G, g = 0..G-1 (G = the most layers of
// any model, so that no model's layer is skipped); a model's layer at f_g is
// the one whose interval holds f_g: ceil((g + 1) L / G) - 1 (computed in
// integers). With G >= L, f_0 maps every model to its first layer and
// f_{G-1} = 1 to its last.
// Pure functions.

#include <cstdint>
#include <vector>

namespace prh::stats {

// (l + 1) / L.
double layer_depth(int l, int L);

// The G grid points (g + 1) / G.
std::vector<double> depth_grid(int G);

// The layer (0-based) of a model with L >= 1 layers at grid point g of G:
// ceil((g + 1) L / G) - 1. InputError for g outside [0, G) or L < 1.
int layer_at_depth(int g, int G, int L);

// The same-depth matrix at grid point g: from the layer-by-layer scores
// `layers` [M, M, Lmax, Lmax] (row-major; [i, j, l, m] = score of layer l of
// model i as A against layer m of model j as B) and each model's layer count
// (0: the model has no layers here, its row and column NaN), the row-major
// M x M matrix S[i, j] = layers[i, j, l_i(g), l_j(g)].
std::vector<double> same_depth_scores(const std::vector<double>& layers,
                                      const std::vector<std::int64_t>& layer_counts, int Lmax,
                                      int g, int G);

}  // namespace prh::stats
