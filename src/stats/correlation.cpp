#include "prh/stats/correlation.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

// Boost.Math where Boost is installed; prh's own distributions (the GPU image
// has no Boost; distributions.hpp) otherwise. The unit test compares the two.
#ifdef PRH_HAVE_BOOST
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#endif

#include "prh/core/error.hpp"
#include "prh/stats/distributions.hpp"

namespace prh::stats {

namespace {

// Two-sided p-values: P(|Z| > |z|) and P(|T_df| > |t|).
double two_sided_normal_p(double z) {
#ifdef PRH_HAVE_BOOST
  return 2 * boost::math::cdf(boost::math::complement(boost::math::normal(), std::fabs(z)));
#else
  return 2 * normal_sf(std::fabs(z));
#endif
}

double two_sided_t_p(double t, double df) {
#ifdef PRH_HAVE_BOOST
  return 2 * boost::math::cdf(boost::math::complement(boost::math::students_t(df), std::fabs(t)));
#else
  return 2 * student_t_sf(std::fabs(t), df);
#endif
}

}  // namespace

Method parse_method(const std::string& name) {
  if (name == "pearson") return Method::Pearson;
  if (name == "spearman") return Method::Spearman;
  if (name == "kendall") return Method::Kendall;
  throw InputError(
      fmt::format("unknown correlation '{}' (known: spearman, pearson, kendall)", name));
}

std::string method_name(Method m) {
  switch (m) {
    case Method::Pearson:
      return "pearson";
    case Method::Spearman:
      return "spearman";
    case Method::Kendall:
      return "kendall";
  }
  return "?";
}

std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

double pearson_r(const std::vector<double>& x, const std::vector<double>& y) {
  const auto n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::nan("");
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

double spearman_r(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson_r(ranks(x), ranks(y));
}

namespace {

// Concordant minus discordant pairs, and the tie counts tau-b needs.
struct PairCounts {
  double s = 0, n0 = 0, n1 = 0, n2 = 0;  // n1: pairs tied in x, n2: tied in y
};

// Knight's (1966) O(n log n) count: sort by (x, y); pairs tied in x (n1) and
// in both (n3) are runs of that order; the discordant pairs are the
// inversions of y in it (merge sort); pairs tied in y (n2) are runs of the
// sorted y. s = n0 - n1 - n2 + n3 - 2 D. Integer counts: the same numbers as
// the O(n^2) definition (test_stats_correlation.cpp checks it).
PairCounts pair_counts(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return x[a] < x[b] || (x[a] == x[b] && y[a] < y[b]);
  });
  auto runs = [](const std::vector<double>& v, auto same) {
    std::int64_t t = 0;
    for (std::size_t i = 0; i < v.size();) {
      std::size_t j = i + 1;
      while (j < v.size() && same(i, j)) ++j;
      const auto len = static_cast<std::int64_t>(j - i);
      t += len * (len - 1) / 2;
      i = j;
    }
    return t;
  };
  std::vector<double> xs(n), ys(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = x[order[i]], ys[i] = y[order[i]];
  const std::int64_t n1 = runs(xs, [&](std::size_t i, std::size_t j) { return xs[j] == xs[i]; });
  const std::int64_t n3 =
      runs(xs, [&](std::size_t i, std::size_t j) { return xs[j] == xs[i] && ys[j] == ys[i]; });
  // Bottom-up merge sort of ys, counting pairs i < j with ys[i] > ys[j].
  std::int64_t swaps = 0;
  std::vector<double> buf(n);
  for (std::size_t width = 1; width < n; width *= 2) {
    for (std::size_t lo = 0; lo < n; lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      std::size_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi) {
        if (ys[b] < ys[a]) {
          swaps += static_cast<std::int64_t>(mid - a);
          buf[k++] = ys[b++];
        } else {
          buf[k++] = ys[a++];
        }
      }
      while (a < mid) buf[k++] = ys[a++];
      while (b < hi) buf[k++] = ys[b++];
    }
    ys.swap(buf);
  }
  const std::int64_t n2 = runs(ys, [&](std::size_t i, std::size_t j) { return ys[j] == ys[i]; });
  const auto n0 = static_cast<std::int64_t>(n) * static_cast<std::int64_t>(n - 1) / 2;
  PairCounts c;
  c.n0 = static_cast<double>(n0);
  c.n1 = static_cast<double>(n1);
  c.n2 = static_cast<double>(n2);
  c.s = static_cast<double>(n0 - n1 - n2 + n3 - 2 * swaps);
  return c;
}

// Tie groups' sizes of x.
std::vector<double> tie_sizes(const std::vector<double>& x) {
  std::vector<double> s(x);
  std::sort(s.begin(), s.end());
  std::vector<double> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    while (j + 1 < s.size() && s[j + 1] == s[i]) ++j;
    if (j > i) out.push_back(static_cast<double>(j - i + 1));
    i = j + 1;
  }
  return out;
}

double statistic(const std::vector<double>& x, const std::vector<double>& y, Method m) {
  switch (m) {
    case Method::Pearson:
      return pearson_r(x, y);
    case Method::Spearman:
      return spearman_r(x, y);
    case Method::Kendall:
      return kendall_tau_b(x, y);
  }
  return std::nan("");
}

// Exact two-sided permutation p-value: the share of the n! orderings of y
// whose |statistic| reaches the observed one (with a small tolerance for
// rounding), the observed ordering included.
double exact_p(const std::vector<double>& x, const std::vector<double>& y, Method m, double r) {
  std::vector<std::size_t> perm(y.size());
  std::iota(perm.begin(), perm.end(), 0);
  std::vector<double> yp(y.size());
  std::int64_t hits = 0, total = 0;
  const double bound = std::fabs(r) - 1e-12;
  do {
    for (std::size_t i = 0; i < perm.size(); ++i) yp[i] = y[perm[i]];
    const double s = statistic(x, yp, m);
    if (!std::isnan(s) && std::fabs(s) >= bound) ++hits;
    ++total;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return static_cast<double>(hits) / static_cast<double>(total);
}

}  // namespace

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  const auto c = pair_counts(x, y);
  const double denom = std::sqrt((c.n0 - c.n1) * (c.n0 - c.n2));
  if (!(denom > 0)) return std::nan("");
  return std::clamp(c.s / denom, -1.0, 1.0);
}

double coefficient_finite(const std::vector<double>& x, const std::vector<double>& y, Method m) {
  std::vector<double> fx, fy;
  fx.reserve(x.size());
  fy.reserve(y.size());
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      fx.push_back(x[i]);
      fy.push_back(y[i]);
    }
  if (fx.size() < 3) return std::nan("");
  return statistic(fx, fy, m);
}

Correlation correlate(const std::vector<double>& x, const std::vector<double>& y, Method m) {
  PRH_CHECK_INPUT(x.size() == y.size(), "correlation of vectors of different length ({} vs {})",
                  x.size(), y.size());
  PRH_CHECK_INPUT(x.size() >= 3, "correlation needs at least 3 pairs, got {}", x.size());
  Correlation out;
  out.n = static_cast<std::int64_t>(x.size());
  out.r = statistic(x, y, m);
  if (std::isnan(out.r)) {
    out.p = std::nan("");
    return out;
  }
  const auto n = static_cast<double>(x.size());
  if (m != Method::Pearson && x.size() <= static_cast<std::size_t>(kExactMaxN)) {
    out.p = exact_p(x, y, m, out.r);
    out.exact = true;
    return out;
  }
  if (m == Method::Kendall) {
    // Normal approximation with the tie-corrected variance of S (Kendall 1970).
    const auto c = pair_counts(x, y);
    const auto tx = tie_sizes(x), ty = tie_sizes(y);
    auto sum = [](const std::vector<double>& t, auto f) {
      double s = 0;
      for (double v : t) s += f(v);
      return s;
    };
    const double v0 = n * (n - 1) * (2 * n + 5);
    const double vt = sum(tx, [](double t) { return t * (t - 1) * (2 * t + 5); });
    const double vu = sum(ty, [](double t) { return t * (t - 1) * (2 * t + 5); });
    const double t2 = sum(tx, [](double t) { return t * (t - 1) * (t - 2); }) *
                      sum(ty, [](double t) { return t * (t - 1) * (t - 2); });
    const double t1 = sum(tx, [](double t) { return t * (t - 1); }) *
                      sum(ty, [](double t) { return t * (t - 1); });
    const double var =
        (v0 - vt - vu) / 18 + t2 / (9 * n * (n - 1) * (n - 2)) + t1 / (2 * n * (n - 1));
    if (!(var > 0)) {
      out.p = std::nan("");
      return out;
    }
    const double z = c.s / std::sqrt(var);
    out.p = two_sided_normal_p(z);
    return out;
  }
  if (std::fabs(out.r) >= 1.0) {
    out.p = 0.0;
    return out;
  }
  const double t = out.r * std::sqrt((n - 2) / (1 - out.r * out.r));
  out.p = two_sided_t_p(t, n - 2);
  return out;
}

}  // namespace prh::stats
