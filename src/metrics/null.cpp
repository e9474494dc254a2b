#include "prh/metrics/null.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/SVD>

#include "prh/core/error.hpp"
#include "prh/metrics/cknna.hpp"
#include "prh/metrics/hsic.hpp"
#include "prh/metrics/sequence.hpp"
#include "prh/metrics/svcca.hpp"
#include "prh/metrics/tiles.hpp"

namespace prh::metrics {

namespace {

Permutation inverse(const Permutation& perm, Index n) {
  PRH_CHECK_INPUT(static_cast<Index>(perm.size()) == n,
                  "permutation of {} rows for features of {} rows", perm.size(), n);
  Permutation inv(perm.size(), -1);
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const auto v = perm[i];
    PRH_CHECK_INPUT(v >= 0 && v < n && inv[static_cast<std::size_t>(v)] < 0,
                    "not a permutation of 0..{}: entry {} is {}", n - 1, i, v);
    inv[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(i);
  }
  return inv;
}

template <typename V>
V permute_vector(const V& v, const Permutation& perm) {
  V out(v.size());
  for (std::size_t i = 0; i < perm.size(); ++i)
    out[static_cast<Index>(i)] = v[static_cast<Index>(perm[i])];
  return out;
}

}  // namespace

NeighborLists relabel(const NeighborLists& b, const Permutation& perm, const Permutation& inv) {
  NeighborLists out;
  out.n = b.n;
  out.k = b.k;
  out.index.resize(b.index.size());
  out.sim.resize(b.sim.size());
  const auto k = static_cast<std::size_t>(b.k);
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const std::int32_t* src = b.row(perm[i]);
    const float* src_sim = b.row_sim(perm[i]);
    for (std::size_t c = 0; c < k; ++c) {
      out.index[i * k + c] = inv[static_cast<std::size_t>(src[c])];
      out.sim[i * k + c] = src_sim[c];
    }
  }
  return out;
}

Representation permute(const Representation& b, const Permutation& perm) {
  const Permutation inv = inverse(perm, b.n());
  Representation out;
  // x keeps its shape (validate() and n() read it) but no values are copied:
  // no null reads them (check_calibratable rules out the RBF kernel).
  out.x.resize(b.x.rows(), b.x.cols());
  if (b.neighbors) out.neighbors = relabel(*b.neighbors, perm, inv);
  if (b.moments) {
    const LinearMoments& m = *b.moments;
    LinearMoments p;
    p.centred.resize(m.centred.rows(), m.centred.cols());
    for (std::size_t i = 0; i < perm.size(); ++i)
      p.centred.row(static_cast<Index>(i)) = m.centred.row(perm[i]);
    p.gram = m.gram;
    p.sq_norms = permute_vector(m.sq_norms, perm);
    p.col_sum = m.col_sum;
    p.row_dot = permute_vector(m.row_dot, perm);
    p.hsic_b_self = m.hsic_b_self;
    p.hsic_u_self = m.hsic_u_self;
    out.moments = std::move(p);
  }
  out.svcca = b.svcca;
  out.cknna_self = b.cknna_self;
  return out;
}

bool linear_null_by_gram(Index n, Index da, Index db) {
  return n <= kGramNullMaxRows && static_cast<double>(da) * static_cast<double>(db) >
                                      kGramNullCrossover * static_cast<double>(n);
}

void check_calibratable(const std::vector<MetricSpec>& specs) {
  for (const auto& s : specs)
    PRH_CHECK_INPUT(!((s.kind == MetricKind::Cka || s.kind == MetricKind::UnbiasedCka) &&
                      s.kernel == Kernel::Rbf),
                    "calibration of {} is not supported: the permutation null of an RBF kernel "
                    "needs the N x N Gram matrix kept per layer (linear kernels only)",
                    s.name());
}

namespace {

// For every entry (i, c) of the first kmax columns of the lists, with
// j = index(i, c): the position of i in row j, or kmax when i is not among
// j's first kmax neighbours.
std::vector<std::int32_t> reverse_positions(const NeighborLists& l, int kmax) {
  const auto n = static_cast<std::size_t>(l.n);
  const auto k = static_cast<std::size_t>(kmax);
  // Rows sorted by column (column, position): one binary search per entry.
  std::vector<std::pair<std::int32_t, std::int32_t>> sorted(n * k);
  for (std::size_t j = 0; j < n; ++j) {
    const std::int32_t* r = l.row(static_cast<Index>(j));
    for (std::size_t c = 0; c < k; ++c) sorted[j * k + c] = {r[c], static_cast<std::int32_t>(c)};
    std::sort(sorted.begin() + static_cast<std::ptrdiff_t>(j * k),
              sorted.begin() + static_cast<std::ptrdiff_t>((j + 1) * k));
  }
  std::vector<std::int32_t> rev(n * k, kmax);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t* r = l.row(static_cast<Index>(i));
    for (std::size_t c = 0; c < k; ++c) {
      const auto j = static_cast<std::size_t>(r[c]);
      const auto first = sorted.begin() + static_cast<std::ptrdiff_t>(j * k);
      const auto last = first + static_cast<std::ptrdiff_t>(k);
      const auto it = std::lower_bound(
          first, last,
          std::make_pair(static_cast<std::int32_t>(i), std::numeric_limits<std::int32_t>::min()));
      if (it != last && it->first == static_cast<std::int32_t>(i)) rev[i * k + c] = it->second;
    }
  }
  return rev;
}

}  // namespace

// One layer pair (a, b) and what its null needs.
struct PairNull::LayerPair {
  const Representation* a;
  const Representation* b;
  const Backend* backend;
  Index n = 0;

  // mutual_knn and cknna, all k in one pass over the first kmc columns.
  int kmc = 0;
  std::vector<std::size_t> mutual;  // spec indices
  struct CknnaK {
    std::size_t spec;
    int k;
    double self_a, self_b;
    // per permutation
    double t1 = 0, sum_x = 0, sum_y = 0;
    std::vector<double> col_x, row_y;
  };
  std::vector<CknnaK> cknna;  // ascending k
  std::vector<std::int32_t> rev_a, rev_b;
  std::vector<std::int64_t> stamp;
  std::vector<std::int32_t> pos_b;
  std::vector<std::int64_t> hist;
  std::int64_t epoch = 0;

  // cycle_knn: A's reverse lists over the first kcyc columns: for row i, the
  // rows j (with the position of i in N_A(j)) that hold i.
  std::vector<std::size_t> cycle;
  int kcyc = 0;
  std::vector<Index> rev_start;
  std::vector<std::pair<std::int32_t, std::int32_t>> rev_list;

  // lcs_knn, edit_distance_knn
  std::vector<std::size_t> sequence;
  std::vector<std::int32_t> row_scratch, lcs_scratch;
  std::vector<int> edit_scratch;

  // cka, unbiased_cka (linear kernel): B's moments with permuted rows; on
  // the Gram path (linear_null_by_gram) the two row Gram matrices instead of
  // B's permuted centred rows.
  std::vector<std::size_t> linear;
  LinearMoments pm;
  const MatrixF* gram_a = nullptr;
  const MatrixF* gram_b = nullptr;

  // svcca: U = Xc w of each side, per cca_dim.
  struct Bases {
    std::size_t spec;
    bool defined = false;
    MatrixD ua, ub, ub_perm;
  };
  std::vector<Bases> svcca;

  LayerPair(const Representation& ra, const Representation& rb,
            const std::vector<MetricSpec>& specs, const Backend& be, LinearNullPath path)
      : a(&ra), b(&rb), backend(&be), n(ra.n()) {
    for (std::size_t s = 0; s < specs.size(); ++s) add_spec(s, specs[s]);
    if (kmc > 0) prepare_mutual_cknna();
    if (kcyc > 0) prepare_cycle();
    if (!linear.empty()) prepare_linear(path);
    for (auto& bs : svcca) prepare_svcca(specs[bs.spec], bs);
  }

  // Spec s into the list of its kind, with the largest k each needs.
  void add_spec(std::size_t s, const MetricSpec& sp) {
    switch (sp.kind) {
      case MetricKind::MutualKnn:
        mutual.push_back(s);
        kmc = std::max(kmc, sp.k);
        break;
      case MetricKind::Cknna:
        cknna.push_back({s, sp.k, a->cknna_self_of(sp.k), b->cknna_self_of(sp.k), 0, 0, 0, {}, {}});
        kmc = std::max(kmc, sp.k);
        break;
      case MetricKind::CycleKnn:
        cycle.push_back(s);
        kcyc = std::max(kcyc, sp.k);
        break;
      case MetricKind::LcsKnn:
      case MetricKind::EditDistanceKnn:
        sequence.push_back(s);
        break;
      case MetricKind::Cka:
      case MetricKind::UnbiasedCka:
        linear.push_back(s);
        break;
      case MetricKind::Svcca:
        svcca.push_back({s, false, {}, {}, {}});
        break;
    }
    if (sp.uses_knn()) {
      PRH_ASSERT(a->neighbors && b->neighbors, "{}: neighbour lists not prepared", sp.name());
      PRH_ASSERT(sp.k <= a->neighbors->k && sp.k <= b->neighbors->k,
                 "{}: lists hold {} and {} neighbours, {} needed", sp.name(), a->neighbors->k,
                 b->neighbors->k, sp.k);
    }
  }

  void prepare_mutual_cknna() {
    const auto un = static_cast<std::size_t>(n);
    std::sort(cknna.begin(), cknna.end(),
              [](const CknnaK& p, const CknnaK& q) { return p.k < q.k; });
    if (!cknna.empty()) {
      rev_a = reverse_positions(*a->neighbors, kmc);
      rev_b = reverse_positions(*b->neighbors, kmc);
    }
    stamp.assign(un, 0);
    pos_b.assign(un, 0);
    hist.assign(static_cast<std::size_t>(kmc), 0);
    for (auto& c : cknna) {
      c.col_x.assign(un, 0.0);
      c.row_y.assign(un, 0.0);
    }
  }

  void prepare_cycle() {
    const auto un = static_cast<std::size_t>(n);
    const auto k = static_cast<std::size_t>(kcyc);
    const NeighborLists& la = *a->neighbors;
    rev_start.assign(un + 1, 0);
    for (std::size_t j = 0; j < un; ++j)
      for (std::size_t c = 0; c < k; ++c)
        ++rev_start[static_cast<std::size_t>(la.row(static_cast<Index>(j))[c]) + 1];
    for (std::size_t i = 0; i < un; ++i) rev_start[i + 1] += rev_start[i];
    rev_list.resize(un * k);
    std::vector<Index> fill(rev_start.begin(), rev_start.end() - 1);
    for (std::size_t j = 0; j < un; ++j)
      for (std::size_t c = 0; c < k; ++c) {
        const auto i = static_cast<std::size_t>(la.row(static_cast<Index>(j))[c]);
        rev_list[static_cast<std::size_t>(fill[i]++)] = {static_cast<std::int32_t>(j),
                                                         static_cast<std::int32_t>(c)};
      }
    if (stamp.empty()) {
      stamp.assign(un, 0);
      pos_b.assign(un, 0);
    }
  }

  void prepare_linear(LinearNullPath path) {
    PRH_ASSERT(a->moments && b->moments, "cka: moments not prepared");
    const LinearMoments& m = *b->moments;
    const bool by_gram = path == LinearNullPath::kGram ||
                         (path == LinearNullPath::kAuto && backend == &cpu_backend() &&
                          linear_null_by_gram(n, a->moments->centred.cols(), m.centred.cols()));
    if (by_gram) {
      gram_a = &a->centred_gram();
      gram_b = &b->centred_gram();
    } else {
      pm.centred.resize(m.centred.rows(), m.centred.cols());
    }
    pm.col_sum = m.col_sum;
    pm.hsic_b_self = m.hsic_b_self;
    pm.hsic_u_self = m.hsic_u_self;
  }

  void prepare_svcca(const MetricSpec& sp, Bases& bs) {
    const Representation& ra = *a;
    const Representation& rb = *b;
    const int dim = sp.cca_dim;
    const auto ia = ra.svcca.find(dim), ib = rb.svcca.find(dim);
    PRH_ASSERT(ia != ra.svcca.end() && ib != rb.svcca.end() && ra.moments && rb.moments,
               "{}: bases not prepared", sp.name());
    bs.defined = ia->second.problem.empty() && ib->second.problem.empty();
    if (!bs.defined) return;
    bs.ua = ra.moments->centred.cast<double>() * ia->second.w;
    bs.ub = rb.moments->centred.cast<double>() * ib->second.w;
    bs.ub_perm.resize(bs.ub.rows(), bs.ub.cols());
  }

  void score(const Permutation& perm, const Permutation& inv, std::vector<double>& out) {
    if (kmc > 0) score_mutual_cknna(perm, out);
    if (!cycle.empty()) score_cycle(perm, inv, out);
    if (!sequence.empty()) score_sequence(perm, inv, out);
    if (!linear.empty()) score_linear(perm, out);
    for (auto& bs : svcca) {
      if (!bs.defined) {
        out[bs.spec] = std::nan("");
        continue;
      }
      for (Index i = 0; i < n; ++i)
        bs.ub_perm.row(i) = bs.ub.row(perm[static_cast<std::size_t>(i)]);
      const MatrixD m = bs.ua.transpose() * bs.ub_perm;  // U_A^T P U_B
      Eigen::JacobiSVD<MatrixD> svd(m);
      out[bs.spec] = svd.singularValues().cwiseMin(1.0).mean();
    }
  }

  // Hits of row i: j in N_A(i) (position ca) with perm(j) in N_B(perm(i))
  // (position cb), i.e. j in N_B'(i). In the mask of every k > max(ca, cb).
  void score_mutual_cknna(const Permutation& perm, std::vector<double>& out) {
    std::fill(hist.begin(), hist.end(), 0);
    for (auto& c : cknna) {
      c.t1 = c.sum_x = c.sum_y = 0;
      std::fill(c.col_x.begin(), c.col_x.end(), 0.0);
      std::fill(c.row_y.begin(), c.row_y.end(), 0.0);
    }
    for (Index i = 0; i < n; ++i) mutual_cknna_row(perm, i);
    for (std::size_t s : mutual) {
      const int kk = specs_k(s);
      std::int64_t common = 0;
      for (int c = 0; c < kk; ++c) common += hist[static_cast<std::size_t>(c)];
      out[s] = static_cast<double>(common) / kk / static_cast<double>(n);
    }
    const auto dn = static_cast<double>(n);
    for (auto& c : cknna) {
      double t3 = 0;
      for (std::size_t j = 0; j < c.col_x.size(); ++j) t3 += c.col_x[j] * c.row_y[j];
      const double kl = (c.t1 + c.sum_x * c.sum_y / ((dn - 1) * (dn - 2)) - 2.0 / (dn - 2) * t3) /
                        (dn * (dn - 3));
      out[c.spec] = cka_ratio(kl, c.self_a, c.self_b);
    }
  }

  // Row i's hits into hist and the cknna sums (rows in order: the sums'
  // order of additions is that of the loop over i).
  void mutual_cknna_row(const Permutation& perm, Index i) {
    const NeighborLists& la = *a->neighbors;
    const NeighborLists& lb = *b->neighbors;
    const auto k = static_cast<std::size_t>(kmc);
    const std::size_t nc = cknna.size();
    const auto ui = static_cast<std::size_t>(i);
    const std::int32_t p = perm[ui];
    const std::int32_t* rb = lb.row(p);
    const std::int64_t e = ++epoch;
    for (std::size_t c = 0; c < k; ++c) {
      const auto x = static_cast<std::size_t>(rb[c]);
      stamp[x] = e;
      pos_b[x] = static_cast<std::int32_t>(c);
    }
    const std::int32_t* ra = la.row(i);
    const float* sa = la.row_sim(i);
    const float* sb = lb.row_sim(p);
    for (std::size_t ca = 0; ca < k; ++ca) {
      const auto j = static_cast<std::size_t>(ra[ca]);
      const auto y = static_cast<std::size_t>(perm[j]);
      if (stamp[y] != e) continue;
      const std::int32_t cb = pos_b[y];
      const std::int32_t m1 = std::max(static_cast<std::int32_t>(ca), cb);
      ++hist[static_cast<std::size_t>(m1)];
      if (nc == 0 || cknna.back().k <= m1) continue;
      const double xv = sa[ca];
      const double yv = sb[cb];
      // The reverse entry (j, i): i at position rev_a in N_A(j), perm(i)
      // at position rev_b in N_B(perm(j)); Y_ji = sim_B(perm(j), rev_b).
      const std::int32_t ra_pos = rev_a[ui * k + ca];
      const std::int32_t rb_pos =
          rev_b[static_cast<std::size_t>(p) * k + static_cast<std::size_t>(cb)];
      const std::int32_t m2 = std::max(m1, std::max(ra_pos, rb_pos));
      const double yt =
          m2 < kmc ? static_cast<double>(lb.row_sim(static_cast<Index>(y))[rb_pos]) : 0.0;
      std::size_t q = 0;
      while (cknna[q].k <= m1) ++q;
      for (; q < nc; ++q) {
        CknnaK& c = cknna[q];
        c.sum_x += xv;
        c.sum_y += yv;
        c.col_x[j] += xv;
        c.row_y[ui] += yv;
        if (m2 < c.k) c.t1 += xv * yt;
      }
    }
  }

  // cycle_knn: i is a hit when some j in N_B'(i)[:k] has i in N_A(j)[:k]:
  // the rows holding i (A's reverse list of i) are stamped with i's
  // position in them, then N_B'(i) = inv(N_B(perm(i))) is looked up.
  void score_cycle(const Permutation& perm, const Permutation& inv, std::vector<double>& out) {
    const NeighborLists& lb = *b->neighbors;
    for (std::size_t s : cycle) {
      const int k = specs_k(s);
      Index hits = 0;
      for (Index i = 0; i < n; ++i) {
        const auto ui = static_cast<std::size_t>(i);
        const std::int64_t e = ++epoch;
        for (Index r = rev_start[ui]; r < rev_start[ui + 1]; ++r) {
          const auto& [j, pos] = rev_list[static_cast<std::size_t>(r)];
          if (pos < k) {
            stamp[static_cast<std::size_t>(j)] = e;
          }
        }
        const std::int32_t* rb = lb.row(perm[ui]);
        for (int c = 0; c < k; ++c)
          if (stamp[static_cast<std::size_t>(inv[static_cast<std::size_t>(rb[c])])] == e) {
            ++hits;
            break;
          }
      }
      out[s] = static_cast<double>(hits) / static_cast<double>(n);
    }
  }

  void score_sequence(const Permutation& perm, const Permutation& inv, std::vector<double>& out) {
    const NeighborLists& la = *a->neighbors;
    const NeighborLists& lb = *b->neighbors;
    for (std::size_t s : sequence) {
      const int k = specs_k(s);
      const bool lcs = kinds[s] == MetricKind::LcsKnn;
      row_scratch.resize(static_cast<std::size_t>(k));
      std::int64_t total = 0;
      for (Index i = 0; i < n; ++i) {
        const std::int32_t* rb = lb.row(perm[static_cast<std::size_t>(i)]);
        for (int c = 0; c < k; ++c)
          row_scratch[static_cast<std::size_t>(c)] = inv[static_cast<std::size_t>(rb[c])];
        total += lcs ? lcs_distinct(la.row(i), row_scratch.data(), k, lcs_scratch)
                     : levenshtein(la.row(i), row_scratch.data(), k, edit_scratch);
      }
      out[s] =
          lcs ? static_cast<double>(total) / static_cast<double>(k) / static_cast<double>(n)
              : 1.0 - static_cast<double>(total) / static_cast<double>(k) / static_cast<double>(n);
    }
  }

  void score_linear(const Permutation& perm, std::vector<double>& out) {
    const LinearMoments& m = *b->moments;
    pm.sq_norms.resize(n);
    pm.row_dot.resize(n);
    for (Index i = 0; i < n; ++i) {
      const Index src = perm[static_cast<std::size_t>(i)];
      if (!gram_a) pm.centred.row(i) = m.centred.row(src);
      pm.sq_norms(i) = m.sq_norms(src);
      pm.row_dot(i) = m.row_dot(src);
    }
    // ||Xc_A^T P Xc_B||_F^2 = trace(K P L P^T), K = Xc_A Xc_A^T, L = Xc_B Xc_B^T.
    const HsicSet h =
        gram_a ? hsic_linear(*a->moments, pm, permuted_gram_trace(*gram_a, *gram_b, perm.data()))
               : hsic_linear(*a->moments, pm,
                             backend->cross_product(a->moments->centred, pm.centred).squaredNorm());
    for (std::size_t s : linear)
      out[s] = kinds[s] == MetricKind::Cka ? cka_ratio(h.biased_kl, h.biased_kk, h.biased_ll)
                                           : cka_ratio(h.unbiased_kl, h.unbiased_kk, h.unbiased_ll);
  }

  // The k and kind of each spec (filled by PairNull).
  std::vector<int> ks;
  std::vector<MetricKind> kinds;
  int specs_k(std::size_t s) const { return ks[s]; }
};

PairNull::PairNull(const std::vector<Representation>& a, const std::vector<Representation>& b,
                   std::vector<MetricSpec> specs, const Backend& backend,
                   LinearNullPath linear_path)
    : specs_(std::move(specs)) {
  check_calibratable(specs_);
  PRH_CHECK_INPUT(!a.empty() && !b.empty(), "a model has no layers");
  for (const auto& s : specs_)
    for (const auto& ra : a)
      for (const auto& rb : b) {
        PRH_CHECK_INPUT(ra.n() == rb.n(), "the two feature sets have different N ({} vs {})",
                        ra.n(), rb.n());
        validate(s, ra.n(), ra.d(), rb.d());
      }
  for (const auto& ra : a)
    for (const auto& rb : b) {
      pairs_.push_back(std::make_unique<LayerPair>(ra, rb, specs_, backend, linear_path));
      for (const auto& s : specs_) {
        pairs_.back()->ks.push_back(s.k);
        pairs_.back()->kinds.push_back(s.kind);
      }
    }
}

PairNull::~PairNull() = default;

std::vector<std::vector<double>> PairNull::layer_pairs(const Permutation& perm) {
  inv_ = inverse(perm, pairs_.front()->n);
  std::vector<std::vector<double>> out(pairs_.size(), std::vector<double>(specs_.size()));
  for (std::size_t p = 0; p < pairs_.size(); ++p) pairs_[p]->score(perm, inv_, out[p]);
  return out;
}

std::vector<double> PairNull::layer_max(const Permutation& perm) {
  // As compare_models: NaN layer pairs are skipped, NaN when none gave a number.
  const auto scores = layer_pairs(perm);
  std::vector<double> best(specs_.size(), -std::numeric_limits<double>::infinity());
  std::vector<bool> any(specs_.size(), false);
  for (const auto& row : scores)
    for (std::size_t s = 0; s < specs_.size(); ++s)
      if (!std::isnan(row[s]) && row[s] > best[s]) {
        best[s] = row[s];
        any[s] = true;
      }
  for (std::size_t s = 0; s < specs_.size(); ++s)
    if (!any[s]) best[s] = std::nan("");
  return best;
}

std::vector<double> null_layer_max(const std::vector<Representation>& a,
                                   const std::vector<Representation>& b,
                                   const std::vector<MetricSpec>& specs, const Permutation& perm) {
  PairNull null(a, b, specs);
  return null.layer_max(perm);
}

}  // namespace prh::metrics
