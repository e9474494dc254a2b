#pragma once
// The tile producer shared by every N x N quantity (kNN, RBF HSIC): a BLAS
// GEMM fills one tile of the Gram matrix X X^T, a consumer reads it. Only the
// tiles on or above the diagonal are produced (the Gram matrix is symmetric);
// a consumer uses each off-diagonal tile for both (i, j) and (j, i), so the
// two directions always see the very same float. Memory: one tile.

#include <algorithm>
#include <vector>

#include "prh/metrics/matrix.hpp"

namespace prh::metrics {

// Rows (and columns) of one Gram tile. 1024 keeps a tile at 4 MB and the GEMM
// near full speed on 2 cores (measured: 1024-tiles reach the full sgemm rate).
inline constexpr Index kGramTile = 1024;

// C[ni x nj] = X[i0 : i0+ni] * X[j0 : j0+nj]^T (row-major, leading dim nj).
void gram_tile(const MatrixF& x, Index i0, Index ni, Index j0, Index nj, float* c);

// A tile of the Gram matrix: rows [i0, i0+ni) x columns [j0, j0+nj), data
// row-major with leading dimension nj. On a diagonal tile (i0 == j0) only the
// entries above the diagonal (c > r) are meaningful to consumers.
struct GramTile {
  Index i0, ni, j0, nj;
  const float* data;
  bool diagonal() const { return i0 == j0; }
  float at(Index r, Index c) const { return data[r * nj + c]; }
};

// Calls consume(const GramTile&) for every tile I <= J of X X^T.
template <class Consumer>
void for_each_gram_tile(const MatrixF& x, Consumer&& consume, Index tile = kGramTile) {
  const Index n = x.rows();
  std::vector<float> buf(static_cast<std::size_t>(std::min(n, tile) * std::min(n, tile)));
  for (Index i0 = 0; i0 < n; i0 += tile) {
    const Index ni = std::min(tile, n - i0);
    for (Index j0 = i0; j0 < n; j0 += tile) {
      const Index nj = std::min(tile, n - j0);
      gram_tile(x, i0, ni, j0, nj, buf.data());
      consume(GramTile{i0, ni, j0, nj, buf.data()});
    }
  }
}

// Calls consume(const GramTile& tx, const GramTile& ty) for every tile I <= J
// of X X^T and Y Y^T at the same position (X and Y have the same rows).
template <class Consumer>
void for_each_gram_tile_pair(const MatrixF& x, const MatrixF& y, Consumer&& consume,
                             Index tile = kGramTile) {
  const Index n = x.rows();
  const auto sz = static_cast<std::size_t>(std::min(n, tile) * std::min(n, tile));
  std::vector<float> bx(sz), by(sz);
  for (Index i0 = 0; i0 < n; i0 += tile) {
    const Index ni = std::min(tile, n - i0);
    for (Index j0 = i0; j0 < n; j0 += tile) {
      const Index nj = std::min(tile, n - j0);
      gram_tile(x, i0, ni, j0, nj, bx.data());
      gram_tile(y, i0, ni, j0, nj, by.data());
      consume(GramTile{i0, ni, j0, nj, bx.data()}, GramTile{i0, ni, j0, nj, by.data()});
    }
  }
}

// X^T Y over the rows of X and Y (both [N, *]), float GEMMs over chunks of
// rows accumulated in double: [Dx, Dy].
MatrixD cross_product(const MatrixF& x, const MatrixF& y);

// X^T X, likewise (symmetric rank-k updates): [D, D].
MatrixD self_product(const MatrixF& x);

}  // namespace prh::metrics
