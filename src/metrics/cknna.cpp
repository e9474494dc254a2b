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

// Mask = top-k(a) ∩ top-k(b) (b == nullptr: top-k(a) alone, L = K), each row
// in increasing column order. A row's entries are found through stamped
// scratch arrays over the N columns (no per-row sort of the two top-k lists)
// and ordered either by sorting the h entries found or by one scan over the
// N columns, whichever costs less (h log h against N). Neighbour lists hold
// distinct columns, so the order, and every number after it, does not depend
// on the choice.
MaskedPair build(const NeighborLists& a, const NeighborLists* b, int k) {
  struct Hit {
    std::int32_t col;
    float x, y;
  };
  const auto n = static_cast<std::size_t>(a.n);
  MaskedPair m;
  m.n = a.n;
  m.start.reserve(n + 1);
  m.start.push_back(0);
  std::vector<Index> in_a(n, -1), in_hit(n, -1);
  std::vector<float> sim_a(n), hit_x(n), hit_y(n);
  std::vector<Hit> hits;
  hits.reserve(static_cast<std::size_t>(k));
  for (Index i = 0; i < a.n; ++i) {
    const std::int32_t* ca = a.row(i);
    const float* va = a.row_sim(i);
    hits.clear();
    if (!b) {
      for (int c = 0; c < k; ++c) hits.push_back({ca[c], va[c], va[c]});
    } else {
      for (int c = 0; c < k; ++c) {
        in_a[static_cast<std::size_t>(ca[c])] = i;
        sim_a[static_cast<std::size_t>(ca[c])] = va[c];
      }
      const std::int32_t* cb = b->row(i);
      const float* vb = b->row_sim(i);
      for (int c = 0; c < k; ++c) {
        const auto j = static_cast<std::size_t>(cb[c]);
        if (in_a[j] == i) hits.push_back({cb[c], sim_a[j], vb[c]});
      }
    }
    const double h = static_cast<double>(hits.size());
    if (h * std::log2(h + 1.0) <= static_cast<double>(n)) {
      std::sort(hits.begin(), hits.end(), [](const Hit& p, const Hit& q) { return p.col < q.col; });
      for (const auto& e : hits) {
        m.col.push_back(e.col);
        m.x.push_back(e.x);
        m.y.push_back(e.y);
      }
    } else {
      for (const auto& e : hits) {
        const auto j = static_cast<std::size_t>(e.col);
        in_hit[j] = i;
        hit_x[j] = e.x;
        hit_y[j] = e.y;
      }
      for (std::size_t j = 0; j < n; ++j)
        if (in_hit[j] == i) {
          m.col.push_back(static_cast<std::int32_t>(j));
          m.x.push_back(hit_x[j]);
          m.y.push_back(hit_y[j]);
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
  const auto rows = static_cast<std::size_t>(m.n);
  // The mask transposed: for column i, the rows j holding it (increasing j)
  // and the position of entry (j, i); row i merged with it gives every pair
  // (i, j), (j, i) in the order of a scan of row i.
  std::vector<Index> tstart(rows + 1, 0);
  for (const auto j : m.col) ++tstart[static_cast<std::size_t>(j) + 1];
  for (std::size_t i = 0; i < rows; ++i) tstart[i + 1] += tstart[i];
  std::vector<std::int32_t> trow(m.col.size());
  std::vector<Index> tpos(m.col.size());
  {
    std::vector<Index> fill(tstart.begin(), tstart.end() - 1);
    for (std::size_t j = 0; j < rows; ++j)
      for (Index e = m.start[j]; e < m.start[j + 1]; ++e) {
        const auto t = static_cast<std::size_t>(
            fill[static_cast<std::size_t>(m.col[static_cast<std::size_t>(e)])]++);
        trow[t] = static_cast<std::int32_t>(j);
        tpos[t] = e;
      }
  }
  double t1 = 0, sum_x = 0, sum_y = 0;
  std::vector<double> col_x(rows, 0.0), row_y(rows, 0.0);
  for (std::size_t i = 0; i < rows; ++i) {
    Index q = tstart[i];
    const Index qend = tstart[i + 1];
    for (Index e = m.start[i]; e < m.start[i + 1]; ++e) {
      const auto ue = static_cast<std::size_t>(e);
      const auto j = m.col[ue];
      sum_x += m.x[ue];
      sum_y += m.y[ue];
      col_x[static_cast<std::size_t>(j)] += m.x[ue];
      row_y[i] += m.y[ue];
      // X_ij * Y_ji: is i in row j's mask?
      while (q < qend && trow[static_cast<std::size_t>(q)] < j) ++q;
      if (q < qend && trow[static_cast<std::size_t>(q)] == j)
        t1 += m.x[ue] * m.y[static_cast<std::size_t>(tpos[static_cast<std::size_t>(q)])];
    }
  }
  double t3 = 0;  // (X^T 1) . (Y 1)
  for (std::size_t j = 0; j < rows; ++j) t3 += col_x[j] * row_y[j];
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
