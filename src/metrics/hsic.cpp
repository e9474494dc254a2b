#include "prh/metrics/hsic.hpp"

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
  HsicSet h;
  const double c2 = cross.squaredNorm();
  h.biased_kl = c2;  // trace(K H L H) = ||Xc_A^T Xc_B||_F^2
  h.biased_kk = a.hsic_b_self;
  h.biased_ll = b.hsic_b_self;
  h.unbiased_kl = hsic_unbiased_linear(a, b, c2);
  h.unbiased_kk = a.hsic_u_self;
  h.unbiased_ll = b.hsic_u_self;
  return h;
}

HsicSet hsic_rbf(const MatrixF& a, const MatrixF& b, double sigma) {
  PRH_ASSERT(a.rows() == b.rows(), "hsic_rbf: row counts differ");
  const Index n = a.rows();
  const double gamma = 1.0 / (2.0 * sigma * sigma);
  VectorD na(n), nb(n);
  for (Index i = 0; i < n; ++i) {
    na(i) = a.row(i).cast<double>().squaredNorm();
    nb(i) = b.row(i).cast<double>().squaredNorm();
  }
  // Off-diagonal sums (i != j); the diagonal of an RBF kernel is exactly 1.
  double s_kl = 0, s_kk = 0, s_ll = 0;
  VectorD rk = VectorD::Zero(n), rl = VectorD::Zero(n);
  for_each_gram_tile_pair(a, b, [&](const GramTile& ta, const GramTile& tb) {
    for (Index r = 0; r < ta.ni; ++r) {
      const Index i = ta.i0 + r;
      const Index c0 = ta.diagonal() ? r + 1 : 0;
      double row_kl = 0, row_kk = 0, row_ll = 0, row_k = 0, row_l = 0;
      for (Index c = c0; c < ta.nj; ++c) {
        const Index j = ta.j0 + c;
        const double da = std::max(0.0, na(i) + na(j) - 2.0 * ta.at(r, c));
        const double db = std::max(0.0, nb(i) + nb(j) - 2.0 * tb.at(r, c));
        const double kv = std::exp(-da * gamma), lv = std::exp(-db * gamma);
        row_kl += kv * lv;
        row_kk += kv * kv;
        row_ll += lv * lv;
        row_k += kv;
        row_l += lv;
        rk(j) += kv;
        rl(j) += lv;
      }
      // Each (i, j) above the diagonal stands for (j, i) too.
      s_kl += 2 * row_kl;
      s_kk += 2 * row_kk;
      s_ll += 2 * row_ll;
      rk(i) += row_k;
      rl(i) += row_l;
    }
  });
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
