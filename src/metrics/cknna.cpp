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

// The mask top-k(a) alone (L = K): a's rows as they are.
MaskedPair build_self(const ColumnOrderedLists& a) {
  MaskedPair m;
  m.n = a.n;
  m.start.resize(static_cast<std::size_t>(a.n) + 1);
  for (Index i = 0; i <= a.n; ++i) m.start[static_cast<std::size_t>(i)] = i * a.k;
  m.col = a.col;
  m.x.assign(a.sim.begin(), a.sim.end());
  m.y = m.x;
  return m;
}

// Mask = top-k(a) ∩ top-k(b), each row in increasing column order: b's row
// is stamped into scratch arrays over the N columns, then a's row, already in
// column order, is scanned into a row buffer, every entry written and the
// stamped ones kept by advancing the cursor (no branch on the data), and the
// kept ones appended. The mask, and every number after it, is the one a sort
// of the intersection gives.
MaskedPair build(const ColumnOrderedLists& a, const NeighborLists& b, int k) {
  const auto n = static_cast<std::size_t>(a.n);
  const auto uk = static_cast<std::size_t>(k);
  MaskedPair m;
  m.n = a.n;
  m.start.reserve(n + 1);
  m.start.push_back(0);
  std::vector<Index> in_b(n, -1);
  std::vector<float> sim_b(n, 0.0f);
  std::vector<std::int32_t> row_col(uk);
  std::vector<double> row_x(uk), row_y(uk);
  for (Index i = 0; i < a.n; ++i) {
    const std::int32_t* cb = b.row(i);
    const float* vb = b.row_sim(i);
    for (int c = 0; c < k; ++c) {
      in_b[static_cast<std::size_t>(cb[c])] = i;
      sim_b[static_cast<std::size_t>(cb[c])] = vb[c];
    }
    const std::int32_t* ca = a.col.data() + i * a.k;
    const float* va = a.sim.data() + i * a.k;
    std::size_t h = 0;
    for (std::size_t c = 0; c < uk; ++c) {
      const auto j = static_cast<std::size_t>(ca[c]);
      row_col[h] = ca[c];
      row_x[h] = va[c];
      row_y[h] = sim_b[j];
      h += in_b[j] == i ? 1 : 0;
    }
    const auto h_end = static_cast<std::ptrdiff_t>(h);
    m.col.insert(m.col.end(), row_col.begin(), row_col.begin() + h_end);
    m.x.insert(m.x.end(), row_x.begin(), row_x.begin() + h_end);
    m.y.insert(m.y.end(), row_y.begin(), row_y.begin() + h_end);
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

ColumnOrderedLists column_ordered(const NeighborLists& a, int k) {
  check(a, k);
  ColumnOrderedLists out;
  out.n = a.n;
  out.k = k;
  const auto n = static_cast<std::size_t>(a.n);
  const auto kk = static_cast<std::size_t>(k);
  out.col.resize(n * kk);
  out.sim.resize(n * kk);
  // No sort: the entries bucketed by column (a counting sort of the whole
  // list), then the buckets walked in column order, each entry appended to
  // its row. Columns are distinct within a row, so every row comes out in
  // increasing column order: what a per-row sort gave, in O(N k).
  std::vector<std::size_t> start(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < kk; ++c) {
      const auto j = a.row(static_cast<Index>(i))[c];
      PRH_ASSERT(j >= 0 && static_cast<std::size_t>(j) < n,
                 "cknna: row {} lists column {} (N = {})", i, j, n);
      ++start[static_cast<std::size_t>(j) + 1];
    }
  for (std::size_t j = 0; j < n; ++j) start[j + 1] += start[j];
  std::vector<std::int32_t> rows(n * kk);
  std::vector<float> sims(n * kk);
  {
    std::vector<std::size_t> at(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const auto* cols = a.row(static_cast<Index>(i));
      const auto* sim = a.row_sim(static_cast<Index>(i));
      for (std::size_t c = 0; c < kk; ++c) {
        const auto p = at[static_cast<std::size_t>(cols[c])]++;
        rows[p] = static_cast<std::int32_t>(i);
        sims[p] = sim[c];
      }
    }
  }
  std::vector<std::size_t> fill(n, 0);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t p = start[j]; p < start[j + 1]; ++p) {
      const auto i = static_cast<std::size_t>(rows[p]);
      const auto q = i * kk + fill[i]++;
      out.col[q] = static_cast<std::int32_t>(j);
      out.sim[q] = sims[p];
    }
  return out;
}

double cknna_self(const ColumnOrderedLists& a) {
  return hsic_unbiased_sparse(build_self(a));
}

double cknna_self(const NeighborLists& a, int k) {
  return cknna_self(column_ordered(a, k));
}

double cknna(const ColumnOrderedLists& a, const NeighborLists& b, int k, double self_a,
             double self_b) {
  PRH_ASSERT(a.k == k, "cknna: column-ordered lists of k = {}, {} needed", a.k, k);
  check(b, k);
  PRH_CHECK_INPUT(a.n == b.n, "cknna: the two feature sets have different N ({} vs {})", a.n, b.n);
  const double kl = hsic_unbiased_sparse(build(a, b, k));
  return cka_ratio(kl, self_a, self_b);
}

double cknna(const NeighborLists& a, const NeighborLists& b, int k, double self_a, double self_b) {
  check(a, k);
  check(b, k);
  PRH_CHECK_INPUT(a.n == b.n, "cknna: the two feature sets have different N ({} vs {})", a.n, b.n);
  return cknna(column_ordered(a, k), b, k, self_a, self_b);
}

double cknna(const NeighborLists& a, const NeighborLists& b, int k) {
  return cknna(a, b, k, cknna_self(a, k), cknna_self(b, k));
}

}  // namespace prh::metrics
