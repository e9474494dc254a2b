#pragma once
// Exact k-nearest-neighbour lists under cosine similarity (inner product of
// normalised rows), computed tile by tile: never an N x N array, never a full
// sort. Self is excluded; ties go to the lower index.

#include <cstdint>
#include <vector>

#include "prh/metrics/matrix.hpp"
#include "prh/metrics/tiles.hpp"

namespace prh::metrics {

// Row i holds the k rows j != i of largest <x_i, x_j>, by decreasing
// similarity (ties: lower index first), with those similarities.
struct NeighborLists {
  Index n = 0;
  int k = 0;
  std::vector<std::int32_t> index;  // [n * k]
  std::vector<float> sim;           // [n * k]

  const std::int32_t* row(Index i) const { return index.data() + i * k; }
  const float* row_sim(Index i) const { return sim.data() + i * k; }
  // The first k2 <= k neighbours of every row (the top-k2 lists).
  NeighborLists prefix(int k2) const;
};

// Throws InputError unless 1 <= k <= n - 1.
void check_k(int k, Index n, const char* metric);

// Top-k neighbour lists of the rows of x (tile: Gram tile size; 0: gram_tile_for(N)).
NeighborLists knn(const MatrixF& x, int k, Index tile = 0);

}  // namespace prh::metrics
