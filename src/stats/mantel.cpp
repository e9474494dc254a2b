#include "prh/stats/mantel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "prh/core/error.hpp"
#include "prh/stats/bootstrap.hpp"
#include "prh/stats/nan.hpp"
#include "prh/stats/permutation.hpp"

namespace prh::stats {

namespace {

void check(const std::vector<double>& s, int M, int permutations) {
  PRH_CHECK_INPUT(M >= 0, "number of models must not be negative, got {}", M);
  PRH_CHECK_INPUT(s.size() == static_cast<std::size_t>(M) * static_cast<std::size_t>(M),
                  "Mantel test: score matrix has {} entries, expected {} x {}", s.size(), M, M);
  PRH_CHECK_INPUT(permutations >= 1, "Mantel test needs at least 1 permutation, got {}",
                  permutations);
}

// Upper triangle of S'[i][j] = S[s(i)][s(j)] (i < j, row-major order).
std::vector<double> relabelled_upper(const std::vector<double>& s, int M,
                                     const std::vector<std::int32_t>& sigma) {
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(M) * static_cast<std::size_t>(M - 1) / 2);
  const auto m = static_cast<std::size_t>(M);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = i + 1; j < m; ++j)
      out.push_back(s[static_cast<std::size_t>(sigma[i]) * m + static_cast<std::size_t>(sigma[j])]);
  return out;
}

double coefficient(const std::vector<double>& x, const std::vector<double>& y, Method m) {
  return coefficient_finite(x, y, m);
}

struct Counter {
  double r = kNaN;
  std::int64_t reach = 0, finite = 0;
  void add(double rs) {
    if (!std::isfinite(rs)) return;
    ++finite;
    if (std::fabs(rs) >= std::fabs(r) * (1 - 1e-12)) ++reach;
  }
  double p() const {
    if (std::isnan(r) || finite == 0) return kNaN;
    return static_cast<double>(1 + reach) / static_cast<double>(1 + finite);
  }
};

}  // namespace

MantelResult mantel(const std::vector<double>& s1, const std::vector<double>& s2, int M, Method m,
                    int permutations, std::uint64_t seed) {
  check(s1, M, permutations);
  check(s2, M, permutations);
  const auto x = upper_triangle(s1, M);
  Counter c;
  c.r = coefficient(x, upper_triangle(s2, M), m);
  if (!std::isnan(c.r))
    for (int t = 0; t < permutations; ++t)
      c.add(coefficient(
          x, relabelled_upper(s2, M, seeded_permutation(seed, static_cast<std::uint64_t>(t), M)),
          m));
  return {c.r, c.p(), c.finite};
}

std::vector<double> mantel_matrix(const std::vector<std::vector<double>>& matrices, int M, Method m,
                                  int permutations, std::uint64_t seed) {
  for (const auto& s : matrices) check(s, M, permutations);
  const std::size_t K = matrices.size();
  // Vectors with every entry finite take a fast path with the same
  // arithmetic: Spearman is Pearson of the ranks, so each vector is ranked
  // once, not once per pair of configurations.
  struct Vec {
    std::vector<double> v, ranks;
    bool finite = false;
    void set(std::vector<double> x, Method m) {
      v = std::move(x);
      finite = v.size() >= 3 &&
               std::all_of(v.begin(), v.end(), [](double e) { return std::isfinite(e); });
      if (finite && m == Method::Spearman) ranks = stats::ranks(v);
    }
  };
  auto coef = [m](const Vec& x, const Vec& y) {
    if (!x.finite || !y.finite) return coefficient(x.v, y.v, m);
    switch (m) {
      case Method::Spearman:
        return pearson_r(x.ranks, y.ranks);
      case Method::Pearson:
        return pearson_r(x.v, y.v);
      case Method::Kendall:
        return kendall_tau_b(x.v, y.v);
    }
    return kNaN;
  };
  std::vector<Vec> upper(K);
  for (std::size_t a = 0; a < K; ++a) upper[a].set(upper_triangle(matrices[a], M), m);
  std::vector<Counter> counts(K * K);
  for (std::size_t a = 0; a < K; ++a)
    for (std::size_t b = a; b < K; ++b) counts[a * K + b].r = coef(upper[a], upper[b]);
  Vec yb;
  for (int t = 0; t < permutations; ++t) {
    const auto sigma = seeded_permutation(seed, static_cast<std::uint64_t>(t), M);
    for (std::size_t b = 0; b < K; ++b) {
      yb.set(relabelled_upper(matrices[b], M, sigma), m);
      for (std::size_t a = 0; a <= b; ++a)
        if (!std::isnan(counts[a * K + b].r)) counts[a * K + b].add(coef(upper[a], yb));
    }
  }
  std::vector<double> p(K * K, kNaN);
  for (std::size_t a = 0; a < K; ++a)
    for (std::size_t b = a; b < K; ++b) p[a * K + b] = p[b * K + a] = counts[a * K + b].p();
  return p;
}

}  // namespace prh::stats
