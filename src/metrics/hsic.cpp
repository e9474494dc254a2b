#include "prh/metrics/hsic.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/metrics/tiles.hpp"

namespace prh::metrics {

double cka_ratio(double hsic_kl, double hsic_kk, double hsic_ll) {
  const double prod = hsic_kk * hsic_ll;
  if (!(prod > 0.0)) return std::nan("");
  return hsic_kl / (std::sqrt(prod) + kCkaEpsilon);
}

HsicSet hsic_linear(const LinearMoments& a, const LinearMoments& b, const MatrixD& cross) {
  return hsic_linear(a, b, cross.squaredNorm());
}

HsicSet hsic_linear(const LinearMoments& a, const LinearMoments& b, double c2) {
  HsicSet h;
  h.biased_kl = c2;  // trace(K H L H) = ||Xc_A^T Xc_B||_F^2
  h.biased_kk = a.hsic_b_self;
  h.biased_ll = b.hsic_b_self;
  h.unbiased_kl = hsic_unbiased_linear(a, b, c2);
  h.unbiased_kk = a.hsic_u_self;
  h.unbiased_ll = b.hsic_u_self;
  return h;
}

namespace {

// One tile's sums over its entries (i, j) above the diagonal, kept apart
// until they are added in tile order (hsic_rbf).
struct RbfPartial {
  double kl = 0, kk = 0, ll = 0;
  std::vector<double> rk_i, rl_i, rk_j, rl_j;  // row sums for rows of I, of J
};

// The RBF kernel values of tile (i0, ni) x (j0, nj) from its Gram tiles ta, tb
// and the rows' squared norms na, nb, summed into p. The loop is the hot
// kernel of hsic_rbf: one call per tile.
void rbf_tile_sums(const VectorD& na, const VectorD& nb, double gamma, Index i0, Index ni, Index j0,
                   Index nj, const float* ta, const float* tb, RbfPartial& p) {
  p.rk_i.assign(static_cast<std::size_t>(ni), 0.0);
  p.rl_i.assign(static_cast<std::size_t>(ni), 0.0);
  p.rk_j.assign(static_cast<std::size_t>(nj), 0.0);
  p.rl_j.assign(static_cast<std::size_t>(nj), 0.0);
  for (Index r = 0; r < ni; ++r) {
    const Index i = i0 + r;
    const Index c0 = (j0 == i0) ? r + 1 : 0;
    double row_kl = 0, row_kk = 0, row_ll = 0, row_k = 0, row_l = 0;
    for (Index c = c0; c < nj; ++c) {
      const Index j = j0 + c;
      const auto e = static_cast<std::size_t>(r * nj + c);
      const double da = std::max(0.0, na(i) + na(j) - 2.0 * ta[e]);
      const double db = std::max(0.0, nb(i) + nb(j) - 2.0 * tb[e]);
      const double kv = std::exp(-da * gamma), lv = std::exp(-db * gamma);
      row_kl += kv * lv;
      row_kk += kv * kv;
      row_ll += lv * lv;
      row_k += kv;
      row_l += lv;
      p.rk_j[static_cast<std::size_t>(c)] += kv;
      p.rl_j[static_cast<std::size_t>(c)] += lv;
    }
    // Each (i, j) above the diagonal stands for (j, i) too.
    p.kl += 2 * row_kl;
    p.kk += 2 * row_kk;
    p.ll += 2 * row_ll;
    p.rk_i[static_cast<std::size_t>(r)] = row_k;
    p.rl_i[static_cast<std::size_t>(r)] = row_l;
  }
}

// The running sums of hsic_rbf.
struct RbfSums {
  double kl = 0, kk = 0, ll = 0;
  VectorD rk, rl;
};

// One block row's partials (tiles t = 0.. at columns i0 + t * tile) added
// into the sums, in tile order.
void add_partials(const std::vector<RbfPartial>& parts, Index i0, Index tile, RbfSums& s) {
  for (std::size_t t = 0; t < parts.size(); ++t) {
    const RbfPartial& p = parts[t];
    const Index j0 = i0 + static_cast<Index>(t) * tile;
    s.kl += p.kl;
    s.kk += p.kk;
    s.ll += p.ll;
    for (std::size_t r = 0; r < p.rk_i.size(); ++r) {
      s.rk(i0 + static_cast<Index>(r)) += p.rk_i[r];
      s.rl(i0 + static_cast<Index>(r)) += p.rl_i[r];
    }
    for (std::size_t c = 0; c < p.rk_j.size(); ++c) {
      s.rk(j0 + static_cast<Index>(c)) += p.rk_j[c];
      s.rl(j0 + static_cast<Index>(c)) += p.rl_j[c];
    }
  }
}

}  // namespace

HsicSet hsic_rbf(const MatrixF& a, const MatrixF& b, double sigma, Index tile) {
  PRH_ASSERT(a.rows() == b.rows(), "hsic_rbf: row counts differ");
  const Index n = a.rows();
  use_single_threaded_blas();
  if (tile <= 0) tile = gram_tile_for(n);
  const double gamma = 1.0 / (2.0 * sigma * sigma);
  VectorD na(n), nb(n);
  for (Index i = 0; i < n; ++i) {
    na(i) = a.row(i).cast<double>().squaredNorm();
    nb(i) = b.row(i).cast<double>().squaredNorm();
  }
  // Off-diagonal sums (i != j); the diagonal of an RBF kernel is exactly 1.
  // One block row of tiles at a time, its tiles spread over threads, each
  // tile's partial sums kept apart and added in tile order: deterministic
  // whatever the thread count, with O(N) extra memory.
  RbfSums sums;
  sums.rk = VectorD::Zero(n);
  sums.rl = VectorD::Zero(n);
  for (Index i0 = 0; i0 < n; i0 += tile) {
    const Index ni = std::min(tile, n - i0);
    const Index count = (n - i0 + tile - 1) / tile;
    std::vector<RbfPartial> parts(static_cast<std::size_t>(count));
#pragma omp parallel
    {
      std::vector<float> ta(static_cast<std::size_t>(ni * tile)), tb(ta.size());
#pragma omp for schedule(dynamic, 1)
      for (Index t = 0; t < count; ++t) {
        const Index j0 = i0 + t * tile, nj = std::min(tile, n - j0);
        gram_tile(a, i0, ni, j0, nj, ta.data());
        gram_tile(b, i0, ni, j0, nj, tb.data());
        rbf_tile_sums(na, nb, gamma, i0, ni, j0, nj, ta.data(), tb.data(),
                      parts[static_cast<std::size_t>(t)]);
      }
    }
    add_partials(parts, i0, tile, sums);
  }
  return hsic_from_sums(n, sums.kl, sums.kk, sums.ll, sums.rk, sums.rl);
}

HsicSet hsic_from_sums(Index n, double s_kl, double s_kk, double s_ll, const VectorD& rk,
                       const VectorD& rl) {
  const auto nd = static_cast<double>(n);
  const double sum_k = rk.sum(), sum_l = rl.sum();  // off-diagonal totals
  auto biased = [&](double s_off, const VectorD& r1, double t1, const VectorD& r2, double t2) {
    // trace(K H L H) = sum K.L - (2/N) (K1).(L1) + (1^T K 1)(1^T L 1) / N^2, diagonals included.
    const double dot = (r1.array() + 1.0).matrix().dot((r2.array() + 1.0).matrix());
    return (s_off + nd) - 2.0 / nd * dot + (t1 + nd) * (t2 + nd) / (nd * nd);
  };
  auto unbiased = [&](double s_off, const VectorD& r1, double t1, const VectorD& r2, double t2) {
    if (n < 4) return std::nan("");
    return (s_off + t1 * t2 / ((nd - 1) * (nd - 2)) - 2.0 / (nd - 2) * r1.dot(r2)) /
           (nd * (nd - 3));
  };
  HsicSet h;
  h.biased_kl = biased(s_kl, rk, sum_k, rl, sum_l);
  h.biased_kk = biased(s_kk, rk, sum_k, rk, sum_k);
  h.biased_ll = biased(s_ll, rl, sum_l, rl, sum_l);
  h.unbiased_kl = unbiased(s_kl, rk, sum_k, rl, sum_l);
  h.unbiased_kk = unbiased(s_kk, rk, sum_k, rk, sum_k);
  h.unbiased_ll = unbiased(s_ll, rl, sum_l, rl, sum_l);
  return h;
}

}  // namespace prh::metrics
