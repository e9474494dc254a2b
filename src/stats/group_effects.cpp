#include "prh/stats/group_effects.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "prh/core/error.hpp"
#include "prh/stats/nan.hpp"
#include "prh/stats/permutation.hpp"

namespace prh::stats {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// A pivot below this fraction of its column's own sum of squares is collinear.
constexpr double kCollinear = 1e-10;

// The pairs with a finite score, the main-effect design and its Cholesky factor.
struct Design {
  int M = 0, m = 0;          // models, models with a finite pair
  std::vector<int> used;     // [M]: index among the m, or -1
  std::vector<int> pi, pj;   // per pair: the two models' indices among the m
  std::vector<int> gi, gj;   // per pair: the two models' indices among the M
  std::vector<double> y;     // per pair: the score
  std::vector<double> chol;  // m x m lower Cholesky factor of A'A
  std::string reason;        // "" when the main effects are identified
};

Design make_design(const std::vector<double>& s, int M) {
  Design d;
  d.M = M;
  d.used.assign(static_cast<std::size_t>(M), -1);
  std::vector<char> any(static_cast<std::size_t>(M), 0);
  const auto at = [&](int i, int j) {
    return s[static_cast<std::size_t>(i) * static_cast<std::size_t>(M) +
             static_cast<std::size_t>(j)];
  };
  for (int i = 0; i < M; ++i)
    for (int j = i + 1; j < M; ++j) {
      const double v = (at(i, j) + at(j, i)) / 2;
      if (!std::isfinite(v)) continue;
      d.gi.push_back(i);
      d.gj.push_back(j);
      d.y.push_back(v);
      any[static_cast<std::size_t>(i)] = any[static_cast<std::size_t>(j)] = 1;
    }
  for (int i = 0; i < M; ++i)
    if (any[static_cast<std::size_t>(i)]) d.used[static_cast<std::size_t>(i)] = d.m++;
  for (std::size_t p = 0; p < d.y.size(); ++p) {
    d.pi.push_back(d.used[static_cast<std::size_t>(d.gi[p])]);
    d.pj.push_back(d.used[static_cast<std::size_t>(d.gj[p])]);
  }
  if (d.m < 4) {
    d.reason = "fewer than 4 models with a finite pair score";
    return d;
  }
  const auto m = static_cast<std::size_t>(d.m);
  std::vector<double> g(m * m, 0.0);  // A'A: degrees on the diagonal, 1 per pair off it
  for (std::size_t p = 0; p < d.y.size(); ++p) {
    const auto a = static_cast<std::size_t>(d.pi[p]), b = static_cast<std::size_t>(d.pj[p]);
    g[a * m + a] += 1;
    g[b * m + b] += 1;
    g[a * m + b] += 1;
    g[b * m + a] += 1;
  }
  d.chol.assign(m * m, 0.0);
  for (std::size_t j = 0; j < m; ++j) {
    double diag = g[j * m + j];
    for (std::size_t k = 0; k < j; ++k) diag -= d.chol[j * m + k] * d.chol[j * m + k];
    if (!(diag > kCollinear * g[j * m + j])) {
      d.reason =
          "model main effects not identifiable (the graph of the finite pairs is "
          "disconnected or bipartite)";
      d.chol.clear();
      return d;
    }
    const double l = std::sqrt(diag);
    d.chol[j * m + j] = l;
    for (std::size_t i = j + 1; i < m; ++i) {
      double v = g[i * m + j];
      for (std::size_t k = 0; k < j; ++k) v -= d.chol[i * m + k] * d.chol[j * m + k];
      d.chol[i * m + j] = v / l;
    }
  }
  return d;
}

// z minus its least squares fit on the main effects.
std::vector<double> residualise(const Design& d, const std::vector<double>& z) {
  const auto m = static_cast<std::size_t>(d.m);
  std::vector<double> c(m, 0.0);
  for (std::size_t p = 0; p < z.size(); ++p) {
    c[static_cast<std::size_t>(d.pi[p])] += z[p];
    c[static_cast<std::size_t>(d.pj[p])] += z[p];
  }
  for (std::size_t i = 0; i < m; ++i) {  // L w = A'z
    double v = c[i];
    for (std::size_t k = 0; k < i; ++k) v -= d.chol[i * m + k] * c[k];
    c[i] = v / d.chol[i * m + i];
  }
  for (std::size_t i = m; i-- > 0;) {  // L' c = w
    double v = c[i];
    for (std::size_t k = i + 1; k < m; ++k) v -= d.chol[k * m + i] * c[k];
    c[i] = v / d.chol[i * m + i];
  }
  std::vector<double> r(z.size());
  for (std::size_t p = 0; p < z.size(); ++p)
    r[p] = z[p] - c[static_cast<std::size_t>(d.pi[p])] - c[static_cast<std::size_t>(d.pj[p])];
  return r;
}

std::vector<double> indicator(const Design& d, const std::vector<int>& lab) {
  std::vector<double> z(d.y.size());
  for (std::size_t p = 0; p < z.size(); ++p) {
    const int a = lab[static_cast<std::size_t>(d.gi[p])],
              b = lab[static_cast<std::size_t>(d.gj[p])];
    z[p] = a >= 0 && a == b ? 1.0 : 0.0;
  }
  return z;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t p = 0; p < a.size(); ++p) s += a[p] * b[p];
  return s;
}

// Least squares of each rhs on the columns cols[f] for the f with take[f]
// (residualised columns; ss[f]: the raw column's sum of squares). Columns are
// taken in order; one whose pivot is below kCollinear * ss[f] is collinear:
// dropped[f] = true. out[r][f]: coefficient of column f for rhs r (NaN where
// not taken or dropped).
void solve_columns(const std::vector<const std::vector<double>*>& cols,
                   const std::vector<double>& ss, const std::vector<char>& take,
                   const std::vector<const std::vector<double>*>& rhs,
                   std::vector<std::vector<double>>& out, std::vector<char>& dropped) {
  const std::size_t F = cols.size();
  dropped.assign(F, 0);
  std::vector<std::size_t> idx;  // kept columns, in order
  std::vector<double> L;         // lower Cholesky of their Gram matrix (F x F storage)
  L.assign(F * F, 0.0);
  for (std::size_t f = 0; f < F; ++f) {
    if (!take[f]) continue;
    const std::size_t q = idx.size();
    std::vector<double> row(q + 1);
    for (std::size_t k = 0; k < q; ++k) {
      double v = dot(*cols[f], *cols[idx[k]]);
      for (std::size_t l = 0; l < k; ++l) v -= row[l] * L[k * F + l];
      row[k] = v / L[k * F + k];
    }
    double diag = dot(*cols[f], *cols[f]);
    for (std::size_t l = 0; l < q; ++l) diag -= row[l] * row[l];
    if (!(ss[f] > 0) || !(diag > kCollinear * ss[f])) {
      dropped[f] = 1;
      continue;
    }
    row[q] = std::sqrt(diag);
    for (std::size_t l = 0; l <= q; ++l) L[q * F + l] = row[l];
    idx.push_back(f);
  }
  const std::size_t q = idx.size();
  out.assign(rhs.size(), std::vector<double>(F, kNaN));
  for (std::size_t r = 0; r < rhs.size(); ++r) {
    std::vector<double> c(q);
    for (std::size_t k = 0; k < q; ++k) c[k] = dot(*cols[idx[k]], *rhs[r]);
    for (std::size_t i = 0; i < q; ++i) {
      double v = c[i];
      for (std::size_t k = 0; k < i; ++k) v -= L[i * F + k] * c[k];
      c[i] = v / L[i * F + i];
    }
    for (std::size_t i = q; i-- > 0;) {
      double v = c[i];
      for (std::size_t k = i + 1; k < q; ++k) v -= L[k * F + i] * c[k];
      c[i] = v / L[i * F + i];
    }
    for (std::size_t k = 0; k < q; ++k) out[r][idx[k]] = c[k];
  }
}

void check_input(const std::vector<double>& s, int M, const std::vector<std::vector<int>>& labels) {
  PRH_CHECK_INPUT(M >= 0 && s.size() == static_cast<std::size_t>(M) * static_cast<std::size_t>(M),
                  "group effects: a score matrix of {} entries is not {} x {}", s.size(), M, M);
  for (const auto& l : labels)
    PRH_CHECK_INPUT(l.size() == static_cast<std::size_t>(M),
                    "group effects: {} labels for {} models", l.size(), M);
}

// The state shared by the fit and the permutations.
struct Fitted {
  Design d;
  std::vector<std::vector<double>> z, r;  // per factor: indicator, residualised
  std::vector<double> ss, yr;
  EffectFit fit;
};

Fitted fit(const std::vector<double>& s, int M, const std::vector<std::vector<int>>& labels) {
  check_input(s, M, labels);
  Fitted x;
  x.d = make_design(s, M);
  const std::size_t F = labels.size();
  x.fit.pairs = static_cast<std::int64_t>(x.d.y.size());
  x.fit.models = x.d.m;
  x.fit.beta.assign(F, kNaN);
  x.fit.reason.assign(F, x.d.reason);
  if (!x.d.reason.empty()) return x;
  x.yr = residualise(x.d, x.d.y);
  std::vector<const std::vector<double>*> cols;
  for (std::size_t f = 0; f < F; ++f) {
    x.z.push_back(indicator(x.d, labels[f]));
    x.ss.push_back(dot(x.z[f], x.z[f]));
    x.r.push_back(residualise(x.d, x.z[f]));
  }
  for (std::size_t f = 0; f < F; ++f) cols.push_back(&x.r[f]);
  std::vector<std::vector<double>> out;
  std::vector<char> dropped;
  solve_columns(cols, x.ss, std::vector<char>(F, 1), {&x.yr}, out, dropped);
  for (std::size_t f = 0; f < F; ++f) {
    if (!(x.ss[f] > 0))
      x.fit.reason[f] = "no pair of models shares a label";
    else if (dropped[f])
      x.fit.reason[f] =
          "the indicator is collinear with the model main effects and the "
          "earlier factors";
    else
      x.fit.beta[f] = out[0][f];
  }
  return x;
}

// inf and sup of {beta0 : p_up(beta0) > a and p_down(beta0) > a} (see the header).
std::pair<double, double> invert(const std::vector<double>& dlt, const std::vector<double>& e,
                                 double a) {
  const auto V = static_cast<double>(dlt.size());
  const auto accepted = [&](double b0) {
    std::int64_t up = 0, down = 0;
    for (std::size_t t = 0; t < dlt.size(); ++t) {
      const double rhs = b0 * e[t];
      up += dlt[t] >= rhs;
      down += dlt[t] <= rhs;
    }
    return (1 + static_cast<double>(up)) / (1 + V) > a &&
           (1 + static_cast<double>(down)) / (1 + V) > a;
  };
  std::vector<double> u;
  for (std::size_t t = 0; t < dlt.size(); ++t)
    if (e[t] != 0) {
      const double q = dlt[t] / e[t];
      if (std::isfinite(q)) u.push_back(q);
    }
  std::sort(u.begin(), u.end());
  u.erase(std::unique(u.begin(), u.end()), u.end());
  if (u.empty()) return accepted(0.0) ? std::pair{-kInf, kInf} : std::pair{kNaN, kNaN};
  // Candidates in increasing order: below all steps, each step, each gap, above all.
  const auto K = u.size();
  const auto candidate = [&](std::size_t c) {  // c = 0 .. 2K
    if (c == 0) return u[0] - std::max(1.0, std::fabs(u[0]));
    if (c == 2 * K) return u[K - 1] + std::max(1.0, std::fabs(u[K - 1]));
    if (c % 2 == 1) return u[(c - 1) / 2];
    return u[c / 2 - 1] + (u[c / 2] - u[c / 2 - 1]) / 2;
  };
  // The bound of a candidate: an open gap is bounded by the step beside it.
  std::size_t lo = 0;
  while (lo <= 2 * K && !accepted(candidate(lo))) ++lo;
  if (lo > 2 * K) return {kNaN, kNaN};
  std::size_t hi = 2 * K;
  while (!accepted(candidate(hi))) --hi;
  const double low = lo == 0 ? -kInf : lo % 2 == 1 ? u[(lo - 1) / 2] : u[lo / 2 - 1];
  const double high = hi == 2 * K ? kInf : hi % 2 == 1 ? u[(hi - 1) / 2] : u[hi / 2];
  return {low, high};
}

}  // namespace

EffectFit fit_group_effects(const std::vector<double>& s, int M,
                            const std::vector<std::vector<int>>& labels) {
  return fit(s, M, labels).fit;
}

EffectTest test_group_effects(const std::vector<double>& s, int M,
                              const std::vector<std::vector<int>>& labels, int permutations,
                              std::uint64_t seed, double confidence) {
  PRH_CHECK_INPUT(permutations >= 0, "group effects: {} permutations", permutations);
  PRH_CHECK_INPUT(confidence > 0 && confidence < 1,
                  "group effects: confidence must lie in (0, 1), got {}", confidence);
  const Fitted x = fit(s, M, labels);
  const std::size_t F = labels.size();
  EffectTest t;
  t.fit = x.fit;
  t.pvalue.assign(F, kNaN);
  t.ci_low.assign(F, kNaN);
  t.ci_high.assign(F, kNaN);
  t.valid.assign(F, 0);
  if (!x.d.reason.empty() || permutations == 0) return t;
  std::vector<char> take(F);
  for (std::size_t f = 0; f < F; ++f) take[f] = std::isfinite(x.fit.beta[f]) ? 1 : 0;
  for (std::size_t f = 0; f < F; ++f) {
    if (!take[f]) continue;
    const double beta = x.fit.beta[f];
    std::vector<int> labelled;
    for (int i = 0; i < M; ++i)
      if (labels[f][static_cast<std::size_t>(i)] >= 0) labelled.push_back(i);
    std::vector<const std::vector<double>*> cols;
    for (std::size_t g = 0; g < F; ++g) cols.push_back(&x.r[g]);
    std::vector<double> ss = x.ss;
    std::vector<int> lab = labels[f];
    std::vector<double> dlt, e;
    std::int64_t ge = 0;
    for (int k = 0; k < permutations; ++k) {
      const auto perm = seeded_permutation(seed, static_cast<std::uint64_t>(k),
                                           static_cast<std::int64_t>(labelled.size()));
      for (std::size_t a = 0; a < labelled.size(); ++a)
        lab[static_cast<std::size_t>(labelled[a])] =
            labels[f][static_cast<std::size_t>(labelled[static_cast<std::size_t>(perm[a])])];
      const auto z = indicator(x.d, lab);
      const auto r = residualise(x.d, z);
      cols[f] = &r;
      ss[f] = dot(z, z);
      std::vector<std::vector<double>> out;
      std::vector<char> dropped;
      solve_columns(cols, ss, take, {&x.yr, &x.r[f]}, out, dropped);
      if (std::any_of(dropped.begin(), dropped.end(), [](char c) { return c != 0; })) continue;
      const double b = out[0][f], c = out[1][f];
      if (!std::isfinite(b) || !std::isfinite(c)) continue;
      ge += b >= beta;
      dlt.push_back(b - beta);
      e.push_back(c - 1);
    }
    t.valid[f] = static_cast<std::int64_t>(dlt.size());
    if (dlt.empty()) continue;
    t.pvalue[f] = static_cast<double>(1 + ge) / static_cast<double>(1 + dlt.size());
    std::tie(t.ci_low[f], t.ci_high[f]) = invert(dlt, e, (1 - confidence) / 2);
  }
  return t;
}

}  // namespace prh::stats
