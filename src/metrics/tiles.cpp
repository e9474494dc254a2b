#include "prh/metrics/tiles.hpp"

#include <cblas.h>

#include <mutex>
#include <vector>

#include "prh/core/error.hpp"

namespace prh::metrics {

namespace {

// Rows per chunk of the double-accumulated products: float sums over at most
// this many terms, double sums across chunks.
constexpr Index kProductChunk = 256;
// Output columns per slice of those products: the unit of work of a thread.
constexpr Index kProductSlice = 128;

// acc[:, c0:c0+w] (+)= X^T Y[:, c0:c0+w] restricted to output rows [0, rows).
void product_slice(const MatrixF& x, const MatrixF& y, Index c0, Index w, Index rows,
                   MatrixD& acc) {
  const Index dx = x.cols(), dy = y.cols();
  std::vector<float> part(static_cast<std::size_t>(rows * w));
  for (Index r0 = 0; r0 < x.rows(); r0 += kProductChunk) {
    const Index nr = std::min(kProductChunk, x.rows() - r0);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(rows),
                static_cast<int>(w), static_cast<int>(nr), 1.0f, x.data() + r0 * dx,
                static_cast<int>(dx), y.data() + r0 * dy + c0, static_cast<int>(dy), 0.0f,
                part.data(), static_cast<int>(w));
    for (Index i = 0; i < rows; ++i)
      for (Index j = 0; j < w; ++j) acc(i, c0 + j) += part[static_cast<std::size_t>(i * w + j)];
  }
}

}  // namespace

void use_single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

TileGrid::TileGrid(Index n_, Index tile_) : n(n_), tile(tile_), blocks((n_ + tile_ - 1) / tile_) {
  for (Index i0 = 0; i0 < n; i0 += tile)
    for (Index j0 = i0; j0 < n; j0 += tile) tiles.emplace_back(i0, j0);
}

void gram_tile(const MatrixF& x, Index i0, Index ni, Index j0, Index nj, float* c) {
  const Index d = x.cols();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(ni), static_cast<int>(nj),
              static_cast<int>(d), 1.0f, x.data() + i0 * d, static_cast<int>(d), x.data() + j0 * d,
              static_cast<int>(d), 0.0f, c, static_cast<int>(nj));
}

MatrixD cross_product(const MatrixF& x, const MatrixF& y) {
  PRH_ASSERT(x.rows() == y.rows(), "cross_product: row counts differ");
  use_single_threaded_blas();
  MatrixD acc = MatrixD::Zero(x.cols(), y.cols());
  const Index slices = (y.cols() + kProductSlice - 1) / kProductSlice;
#pragma omp parallel for schedule(dynamic, 1)
  for (Index s = 0; s < slices; ++s) {
    const Index c0 = s * kProductSlice;
    product_slice(x, y, c0, std::min(kProductSlice, y.cols() - c0), x.cols(), acc);
  }
  return acc;
}

MatrixD self_product(const MatrixF& x) {
  use_single_threaded_blas();
  const Index d = x.cols();
  MatrixD acc = MatrixD::Zero(d, d);
  const Index slices = (d + kProductSlice - 1) / kProductSlice;
  // Slice s needs output rows [0, c0 + w) only (the upper triangle); the
  // largest slices go first for balance.
#pragma omp parallel for schedule(dynamic, 1)
  for (Index t = 0; t < slices; ++t) {
    const Index s = slices - 1 - t;
    const Index c0 = s * kProductSlice, w = std::min(kProductSlice, d - c0);
    product_slice(x, x, c0, w, c0 + w, acc);
  }
  for (Index i = 0; i < d; ++i)
    for (Index j = 0; j < i; ++j) acc(i, j) = acc(j, i);
  return acc;
}

MatrixF row_gram(const MatrixF& x) {
  use_single_threaded_blas();
  const Index n = x.rows(), d = x.cols();
  const MatrixD xd = x.cast<double>();
  MatrixD g(n, n);
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, static_cast<int>(n), static_cast<int>(d),
              1.0, xd.data(), static_cast<int>(d), 0.0, g.data(), static_cast<int>(n));
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < i; ++j) g(i, j) = g(j, i);
  return g.cast<float>();
}

double permuted_gram_trace(const MatrixF& k, const MatrixF& l, const std::int32_t* perm) {
  PRH_ASSERT(k.rows() == k.cols() && l.rows() == l.cols() && k.rows() == l.rows(),
             "permuted_gram_trace: {} x {} and {} x {}", k.rows(), k.cols(), l.rows(), l.cols());
  const Index n = k.rows();
  // Rows in fixed blocks, spread over the OpenMP threads (as the cross
  // product's column slices are), each block's sums kept apart and added in
  // block order: the same number whatever the thread count. Within a row,
  // eight independent partial sums so that the gathers' latencies overlap;
  // products and sums in double (a float's product with a float is exact in
  // double). Float products were about 20% faster but round; an AVX2 gather
  // version was slower on the AMD EPYC measured: kept scalar.
  constexpr Index kBlock = 64;
  constexpr int kLanes = 8;
  const Index blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> diag(static_cast<std::size_t>(blocks)), upper(diag.size());
#pragma omp parallel for schedule(dynamic, 1) if (blocks > 1)
  for (Index b = 0; b < blocks; ++b) {
    double d = 0, u = 0;
    for (Index i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
      const float* kr = k.data() + i * n;
      const float* lr = l.data() + static_cast<Index>(perm[i]) * n;
      d += static_cast<double>(kr[i]) * lr[perm[i]];
      double s[kLanes] = {};
      Index j = i + 1;
      for (; j + kLanes <= n; j += kLanes)
        for (int q = 0; q < kLanes; ++q) s[q] += static_cast<double>(kr[j + q]) * lr[perm[j + q]];
      for (; j < n; ++j) s[0] += static_cast<double>(kr[j]) * lr[perm[j]];
      u += ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
    diag[static_cast<std::size_t>(b)] = d;
    upper[static_cast<std::size_t>(b)] = u;
  }
  double dsum = 0, usum = 0;
  for (std::size_t b = 0; b < diag.size(); ++b) {
    dsum += diag[b];
    usum += upper[b];
  }
  return dsum + 2.0 * usum;
}

}  // namespace prh::metrics
