#pragma once
// The tile producer shared by every N x N quantity (kNN, RBF HSIC): a BLAS
// GEMM fills one tile of the Gram matrix X X^T, a consumer reads it. Only the
// tiles on or above the diagonal are produced (the Gram matrix is symmetric);
// a consumer uses each off-diagonal tile for both (i, j) and (j, i), so the
// two directions always see the very same float. Memory: one tile per thread.
//
// Tiles are spread over OpenMP threads; each GEMM runs single-threaded on a
// tile of fixed shape, so every float is the same whatever the thread count
// (see prh/core/threads.hpp). Consumers run concurrently and must be safe.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "prh/metrics/matrix.hpp"

namespace prh::metrics {

// Rows (and columns) of one Gram tile. 1024 keeps a tile at 4 MB and the GEMM
// near full speed (measured: 1024-tiles reach the whole-matrix sgemm rate).
// Fixed: results may differ in the last bit under another tile size.
inline constexpr Index kGramTile = 1024;

// The tile size used for N rows: kGramTile, or smaller when N is small so that
// there are several tiles to spread over threads (N <= 1024 would otherwise
// give one tile, one thread). A function of N alone: deterministic.
inline Index gram_tile_for(Index n) {
  const Index quarter = ((n + 3) / 4 + 63) / 64 * 64;
  return std::max<Index>(128, std::min(kGramTile, quarter));
}

// C[ni x nj] = X[i0 : i0+ni] * X[j0 : j0+nj]^T (row-major, leading dim nj).
void gram_tile(const MatrixF& x, Index i0, Index ni, Index j0, Index nj, float* c);

// A tile of the Gram matrix: rows [i0, i0+ni) x columns [j0, j0+nj), data
// row-major with leading dimension nj. On a diagonal tile (i0 == j0) only the
// entries above the diagonal (c > r) are meaningful to consumers. `id` numbers
// the tiles in a fixed order (row blocks, then column blocks).
struct GramTile {
  Index id, i0, ni, j0, nj;
  const float* data;
  bool diagonal() const { return i0 == j0; }
  float at(Index r, Index c) const { return data[r * nj + c]; }
};

// The tiles I <= J of an N x N Gram matrix, in the fixed order of GramTile::id.
struct TileGrid {
  Index n, tile, blocks;
  std::vector<std::pair<Index, Index>> tiles;  // (i0, j0)
  TileGrid(Index n, Index tile);
};

// Pins BLAS to one thread (once per process): prh threads over tiles itself.
void use_single_threaded_blas();

// Calls consume(const GramTile&) for every tile I <= J of X X^T, concurrently.
template <class Consumer>
void for_each_gram_tile(const MatrixF& x, Consumer&& consume, Index tile = kGramTile) {
  use_single_threaded_blas();
  const TileGrid grid(x.rows(), tile);
  const auto count = static_cast<Index>(grid.tiles.size());
#pragma omp parallel
  {
    std::vector<float> buf(
        static_cast<std::size_t>(std::min(grid.n, tile) * std::min(grid.n, tile)));
#pragma omp for schedule(dynamic, 1)
    for (Index t = 0; t < count; ++t) {
      const auto [i0, j0] = grid.tiles[static_cast<std::size_t>(t)];
      const Index ni = std::min(tile, grid.n - i0), nj = std::min(tile, grid.n - j0);
      gram_tile(x, i0, ni, j0, nj, buf.data());
      consume(GramTile{t, i0, ni, j0, nj, buf.data()});
    }
  }
}

// X^T Y over the rows of X and Y (both [N, *]): float GEMMs over chunks of
// rows accumulated in double, in fixed column slices spread over threads.
MatrixD cross_product(const MatrixF& x, const MatrixF& y);

// X^T X, likewise (only the upper triangle is computed, then mirrored).
MatrixD self_product(const MatrixF& x);

// X X^T [N, N]: the floats widened (so every product is exact), summed in
// double by one dsyrk, mirrored, then rounded once to float (half the memory
// and memory traffic of the permutation null's Gram path). O(N^2 D) time.
MatrixF row_gram(const MatrixF& x);

// sum_ij K_ij L_{perm(i) perm(j)} = trace(K P L P^T) for symmetric K, L
// [N, N]: products (exact) and sums in double, the diagonal plus twice the
// upper triangle, rows in fixed blocks of 64 over the OpenMP threads, added
// in block order (a fixed order of additions: the same number for any
// thread count). O(N^2), no BLAS; L's entries are gathered.
double permuted_gram_trace(const MatrixF& k, const MatrixF& l, const std::int32_t* perm);

}  // namespace prh::metrics
