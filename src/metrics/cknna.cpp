#include "prh/metrics/cknna.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/metrics/hsic.hpp"

namespace prh::metrics {

namespace {

// The masked kernels X = M o K and Y = M o L in compressed rows: row i holds
// the columns j of its mask in increasing order, with K_ij and L_ij.
struct MaskedPair {
  Index n = 0;
  std::vector<Index> start;  // [n + 1]
  std::vector<std::int32_t> col;
  std::vector<double> x, y;
};

// Sorted (column, similarity) copy of the first k entries of row i.
void sorted_row(const NeighborLists& l, Index i, int k,
                std::vector<std::pair<std::int32_t, float>>& out) {
  out.resize(static_cast<std::size_t>(k));
  for (int c = 0; c < k; ++c) out[static_cast<std::size_t>(c)] = {l.row(i)[c], l.row_sim(i)[c]};
  std::sort(out.begin(), out.end());
}

// Mask = top-k(a) ∩ top-k(b) (b == nullptr: top-k(a) alone, L = K).
MaskedPair build(const NeighborLists& a, const NeighborLists* b, int k) {
  MaskedPair m;
  m.n = a.n;
  m.start.reserve(static_cast<std::size_t>(a.n) + 1);
  m.start.push_back(0);
  std::vector<std::pair<std::int32_t, float>> ra, rb;
  for (Index i = 0; i < a.n; ++i) {
    sorted_row(a, i, k, ra);
    if (!b) {
      for (const auto& [j, s] : ra) {
        m.col.push_back(j);
        m.x.push_back(s);
        m.y.push_back(s);
      }
    } else {
      sorted_row(*b, i, k, rb);
      std::size_t p = 0, q = 0;
      while (p < ra.size() && q < rb.size()) {
        if (ra[p].first < rb[q].first) {
          ++p;
        } else if (rb[q].first < ra[p].first) {
          ++q;
        } else {
          m.col.push_back(ra[p].first);
          m.x.push_back(ra[p].second);
          m.y.push_back(rb[q].second);
          ++p;
          ++q;
        }
      }
    }
    m.start.push_back(static_cast<Index>(m.col.size()));
  }
  return m;
}

// HSIC_u(X, Y) of metrics.md on the sparse masked kernels (diagonals are
// zero: self is never a neighbour).
double hsic_unbiased_sparse(const MaskedPair& m) {
  const auto n = static_cast<double>(m.n);
  double t1 = 0, sum_x = 0, sum_y = 0;
  std::vector<double> col_x(static_cast<std::size_t>(m.n), 0.0),
      row_y(static_cast<std::size_t>(m.n), 0.0);
  for (Index i = 0; i < m.n; ++i) {
    for (Index e = m.start[static_cast<std::size_t>(i)];
         e < m.start[static_cast<std::size_t>(i) + 1]; ++e) {
      const auto ue = static_cast<std::size_t>(e);
      const Index j = m.col[ue];
      sum_x += m.x[ue];
      sum_y += m.y[ue];
      col_x[static_cast<std::size_t>(j)] += m.x[ue];
      row_y[static_cast<std::size_t>(i)] += m.y[ue];
      // X_ij * Y_ji: is i in row j's mask?
      const auto b = m.col.begin() + m.start[static_cast<std::size_t>(j)];
      const auto end = m.col.begin() + m.start[static_cast<std::size_t>(j) + 1];
      const auto it = std::lower_bound(b, end, static_cast<std::int32_t>(i));
      if (it != end && *it == i) t1 += m.x[ue] * m.y[static_cast<std::size_t>(it - m.col.begin())];
    }
  }
  double t3 = 0;  // (X^T 1) . (Y 1)
  for (Index j = 0; j < m.n; ++j)
    t3 += col_x[static_cast<std::size_t>(j)] * row_y[static_cast<std::size_t>(j)];
  return (t1 + sum_x * sum_y / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * t3) / (n * (n - 3));
}

void check(const NeighborLists& a, int k) {
  check_k(k, a.n, "cknna");
  PRH_CHECK_INPUT(k >= 2, "cknna needs k >= 2, got k = {}", k);
  PRH_CHECK_INPUT(a.n >= 4, "cknna needs N >= 4 images, got N = {}", a.n);
  PRH_ASSERT(k <= a.k, "cknna: lists hold {} neighbours, {} needed", a.k, k);
}

}  // namespace

double cknna_self(const NeighborLists& a, int k) {
  check(a, k);
  return hsic_unbiased_sparse(build(a, nullptr, k));
}

double cknna(const NeighborLists& a, const NeighborLists& b, int k, double self_a, double self_b) {
  check(a, k);
  check(b, k);
  PRH_CHECK_INPUT(a.n == b.n, "cknna: the two feature sets have different N ({} vs {})", a.n, b.n);
  const double kl = hsic_unbiased_sparse(build(a, &b, k));
  return cka_ratio(kl, self_a, self_b);
}

double cknna(const NeighborLists& a, const NeighborLists& b, int k) {
  return cknna(a, b, k, cknna_self(a, k), cknna_self(b, k));
}

}  // namespace prh::metrics
