#include "prh/stats/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>

#include "prh/core/error.hpp"
#include "prh/stats/nan.hpp"

namespace prh::stats {

namespace {

void check_matrix(const std::vector<double>& s, int M, const char* what, std::size_t k) {
  PRH_CHECK_INPUT(M >= 0, "number of models must not be negative, got {}", M);
  const auto want = static_cast<std::size_t>(M) * static_cast<std::size_t>(M);
  PRH_CHECK_INPUT(s.size() == want, "{} {}: score matrix has {} entries, expected {} x {} = {}",
                  what, k, s.size(), M, M, want);
}

void check_options(const BootstrapOptions& opt) {
  PRH_CHECK_INPUT(opt.resamples >= 0, "bootstrap resamples must not be negative, got {}",
                  opt.resamples);
  PRH_CHECK_INPUT(opt.confidence > 0 && opt.confidence < 1,
                  "bootstrap confidence must lie in (0, 1), got {}", opt.confidence);
}

// Row-major index u*M+v (u < v: the original upper-triangle entry) of every
// resampled pair a < b with drawn[a] != drawn[b], in that order.
std::vector<std::size_t> resampled_pair_index(int M, const std::vector<int>& drawn) {
  std::vector<std::size_t> idx;
  idx.reserve(drawn.size() * (drawn.size() - (drawn.empty() ? 0 : 1)) / 2);
  for (std::size_t a = 0; a < drawn.size(); ++a)
    for (std::size_t b = a + 1; b < drawn.size(); ++b) {
      if (drawn[a] == drawn[b]) continue;
      const auto u = static_cast<std::size_t>(std::min(drawn[a], drawn[b]));
      const auto v = static_cast<std::size_t>(std::max(drawn[a], drawn[b]));
      idx.push_back(u * static_cast<std::size_t>(M) + v);
    }
  return idx;
}

// Computes r* of every configuration pair for one resample of the models,
// with the same arithmetic (so the same value) as correlate_finite's
// coefficient. Each configuration's resampled vector is prepared once: its
// finite entries are ranked (Spearman) and centred, or their pairwise order
// signs are tabulated (Kendall). A configuration pair whose two vectors are
// finite at the same positions (the common case: no NaN at all, or a model
// missing from every configuration) then costs one dot product; any other pair
// is recomputed on its common finite positions (re-ranked).
class ResampleCorrelator {
 public:
  ResampleCorrelator(const std::vector<std::vector<double>>& matrices, Method m)
      : matrices_(matrices), m_(m), K_(matrices.size()), prep_(matrices.size()) {
    if (m_ == Method::Spearman) rank_classes();
  }

  // r[a*K+b] for a <= b (the lower triangle is left as is).
  void compute(const std::vector<std::size_t>& idx, std::vector<double>& r) {
    const std::size_t n = idx.size();
    // Kendall's sign tables take n(n-1)/2 bytes per configuration: above this
    // many in all, pairs are computed one by one instead.
    constexpr std::size_t kMaxSignBytes = std::size_t{1} << 26;
    const bool signs = m_ == Method::Kendall && K_ * n * (n > 0 ? n - 1 : 0) / 2 <= kMaxSignBytes;
    for (std::size_t k = 0; k < K_; ++k) {
      auto& p = prep_[k];
      p.raw.resize(n);
      p.finite.resize(n);
      p.values.clear();
      for (std::size_t t = 0; t < n; ++t) {
        const double v = matrices_[k][idx[t]];
        p.raw[t] = v;
        p.finite[t] = std::isfinite(v) ? 1 : 0;
        if (p.finite[t]) p.values.push_back(v);
      }
      if (m_ == Method::Spearman) {
        p.classes.clear();
        for (std::size_t t = 0; t < n; ++t)
          if (p.finite[t]) p.classes.push_back(class_[k][idx[t]]);
      }
      p.all_finite = p.values.size() == n;
      p.ready = false;
      const std::size_t nf = p.values.size();
      if (nf < 3) continue;
      if (m_ == Method::Kendall) {
        if (!signs) continue;
        p.sign.resize(nf * (nf - 1) / 2);
        p.ties = 0;
        std::size_t t = 0;
        for (std::size_t i = 0; i < nf; ++i)
          for (std::size_t j = i + 1; j < nf; ++j, ++t) {
            const double d = p.values[i] - p.values[j];
            p.sign[t] = static_cast<std::int8_t>((d > 0) - (d < 0));
            if (d == 0) p.ties += 1;
          }
      } else {
        auto& c = p.centred;
        if (m_ == Method::Spearman)
          ranks_by_class(k, p.classes, c);
        else
          c = p.values;
        const double mean = std::accumulate(c.begin(), c.end(), 0.0) / static_cast<double>(nf);
        p.ss = 0;
        for (auto& x : c) {
          x -= mean;
          p.ss += x * x;
        }
      }
      p.ready = true;
    }
    for (std::size_t a = 0; a < K_; ++a)
      for (std::size_t b = a; b < K_; ++b) r[a * K_ + b] = pair(a, b);
  }

 private:
  // Spearman: every finite entry of each matrix gets the index of its value
  // among the matrix's distinct finite values in increasing order (equal
  // values, -0 and +0 included, one class); non-finite entries -1. A
  // resample's ranks then come from counting its entries per class.
  void rank_classes() {
    class_.resize(K_);
    classes_n_.assign(K_, 0);
    for (std::size_t k = 0; k < K_; ++k) {
      const auto& x = matrices_[k];
      std::vector<std::pair<double, std::size_t>> v;
      for (std::size_t e = 0; e < x.size(); ++e)
        if (std::isfinite(x[e])) v.emplace_back(x[e], e);
      std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      class_[k].assign(x.size(), -1);
      std::int32_t c = -1;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i == 0 || !(v[i].first == v[i - 1].first)) ++c;
        class_[k][v[i].second] = c;
      }
      classes_n_[k] = static_cast<std::size_t>(c + 1);
    }
  }

  // What ranks() gives the resample's finite values (in `classes` order):
  // a value's tie block in sorted order is [i, j], i the count of smaller
  // values, j = i + (count of equal values) - 1, and its rank
  // (i + j) / 2 + 1: the same integers, so the same doubles, in O(n + classes)
  // instead of a sort per resample.
  void ranks_by_class(std::size_t k, const std::vector<std::int32_t>& classes,
                      std::vector<double>& out) {
    auto& count = count_;
    count.assign(classes_n_[k], 0);
    for (auto c : classes) ++count[static_cast<std::size_t>(c)];
    std::size_t below = 0;
    for (auto& c : count) {
      const std::size_t here = c;
      c = below;  // now: the number of smaller values
      below += here;
    }
    out.resize(classes.size());
    for (std::size_t t = 0; t < classes.size(); ++t) {
      const auto c = static_cast<std::size_t>(classes[t]);
      const std::size_t next = c + 1 < count.size() ? count[c + 1] : below;
      const std::size_t i = count[c], j = next - 1;
      out[t] = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    }
  }

  struct Prepared {
    std::vector<double> raw;            // the resampled pair vector
    std::vector<char> finite;           // raw[t] is finite
    std::vector<double> values;         // the finite entries, in order
    std::vector<std::int32_t> classes;  // Spearman: their rank classes (class_)
    bool all_finite = false;
    bool ready = false;             // centred/ss or sign/ties hold values' statistics
    std::vector<double> centred;    // Pearson: values, Spearman: their ranks; minus the mean
    double ss = 0;                  // sum of squares of centred
    std::vector<std::int8_t> sign;  // Kendall: sign(values[i] - values[j]), i < j
    double ties = 0;                // zeros in sign
  };

  double pair(std::size_t a, std::size_t b) const {
    const auto& x = prep_[a];
    const auto& y = prep_[b];
    const bool same_positions = a == b || (x.all_finite && y.all_finite) || x.finite == y.finite;
    if (!same_positions) return coefficient_finite(x.raw, y.raw, m_);
    const std::size_t n = x.values.size();
    if (n < 3) return kNaN;
    if (!x.ready || !y.ready) return coefficient_finite(x.values, y.values, m_);
    if (m_ == Method::Kendall) {
      std::int64_t s = 0;
      for (std::size_t t = 0; t < x.sign.size(); ++t) s += x.sign[t] * y.sign[t];
      const double n0 = static_cast<double>(n) * static_cast<double>(n - 1) / 2;
      const double denom = std::sqrt((n0 - x.ties) * (n0 - y.ties));
      if (!(denom > 0)) return kNaN;
      return std::clamp(static_cast<double>(s) / denom, -1.0, 1.0);
    }
    if (x.ss <= 0 || y.ss <= 0) return kNaN;
    if (a == b) return 1.0;
    double sxy = 0;
    for (std::size_t t = 0; t < n; ++t) sxy += x.centred[t] * y.centred[t];
    return std::clamp(sxy / std::sqrt(x.ss * y.ss), -1.0, 1.0);
  }

  const std::vector<std::vector<double>>& matrices_;
  Method m_;
  std::size_t K_;
  std::vector<Prepared> prep_;
  std::vector<std::vector<std::int32_t>> class_;  // Spearman: per matrix entry
  std::vector<std::size_t> classes_n_;
  std::vector<std::size_t> count_;  // scratch of ranks_by_class
};

std::size_t checked_configurations(const std::vector<std::vector<double>>& matrices, int M,
                                   const char* what) {
  for (std::size_t k = 0; k < matrices.size(); ++k) check_matrix(matrices[k], M, what, k);
  return matrices.size();
}

}  // namespace

void percentile_interval(std::vector<double>& values, int resamples, double confidence, double& low,
                         double& high) {
  if (values.empty() || 2 * values.size() < static_cast<std::size_t>(resamples)) {
    low = high = kNaN;
    return;
  }
  std::sort(values.begin(), values.end());
  low = quantile_sorted(values, (1 - confidence) / 2);
  high = quantile_sorted(values, (1 + confidence) / 2);
}

std::vector<double> upper_triangle(const std::vector<double>& s, int M) {
  check_matrix(s, M, "matrix", 0);
  std::vector<double> out;
  const auto m = static_cast<std::size_t>(M);
  out.reserve(m * (m - (m > 0 ? 1 : 0)) / 2);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = i + 1; j < m; ++j) out.push_back(s[i * m + j]);
  return out;
}

std::vector<double> mean_alignment(const std::vector<double>& s, int M) {
  check_matrix(s, M, "matrix", 0);
  const auto m = static_cast<std::size_t>(M);
  std::vector<double> out(m, kNaN);
  for (std::size_t i = 0; i < m; ++i) {
    double sum = 0;
    int count = 0;
    for (std::size_t j = 0; j < m; ++j) {
      if (j == i) continue;
      const double v = (s[i * m + j] + s[j * m + i]) / 2;
      if (!std::isfinite(v)) continue;
      sum += v;
      ++count;
    }
    if (count > 0) out[i] = sum / count;
  }
  return out;
}

Correlation correlate_finite(const std::vector<double>& x, const std::vector<double>& y, Method m) {
  PRH_CHECK_INPUT(x.size() == y.size(), "correlation of vectors of different length ({} vs {})",
                  x.size(), y.size());
  std::vector<double> fx, fy;
  fx.reserve(x.size());
  fy.reserve(y.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      fx.push_back(x[i]);
      fy.push_back(y[i]);
    }
  if (fx.size() < 3) return {kNaN, kNaN, static_cast<std::int64_t>(fx.size()), false};
  return correlate(fx, fy, m);
}

std::vector<int> resample_models(std::mt19937_64& rng, int M) {
  PRH_CHECK_INPUT(M >= 0, "number of models must not be negative, got {}", M);
  std::vector<int> drawn(static_cast<std::size_t>(M));
  if (M == 0) return drawn;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const auto bound = static_cast<std::uint64_t>(M);
  const std::uint64_t rem = (kMax % bound + 1) % bound;  // 2^64 mod M
  for (auto& d : drawn) {
    std::uint64_t x = rng();
    while (rem != 0 && x > kMax - rem) x = rng();  // keep [0, 2^64 - rem): a multiple of M
    d = static_cast<int>(x % bound);
  }
  return drawn;
}

std::vector<double> resampled_upper_triangle(const std::vector<double>& s, int M,
                                             const std::vector<int>& drawn) {
  check_matrix(s, M, "matrix", 0);
  for (int d : drawn)
    PRH_CHECK_INPUT(d >= 0 && d < M, "resampled model index {} outside [0, {})", d, M);
  const auto idx = resampled_pair_index(M, drawn);
  std::vector<double> out(idx.size());
  for (std::size_t t = 0; t < idx.size(); ++t) out[t] = s[idx[t]];
  return out;
}

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

double percentile_pvalue(const std::vector<double>& v) {
  const std::size_t n = v.size();
  if (n == 0) return kNaN;
  if (n == 1) return v[0] == 0 ? 1.0 : 0.0;
  const double last = static_cast<double>(n - 1);
  // q_low: the largest q with Q(q) <= 0.
  double q_low;
  if (v[0] > 0) {
    q_low = 0;
  } else if (v[n - 1] <= 0) {
    q_low = 1;
  } else {
    const auto k =
        static_cast<std::size_t>(std::upper_bound(v.begin(), v.end(), 0.0) - v.begin()) - 1;
    q_low = (static_cast<double>(k) + (0 - v[k]) / (v[k + 1] - v[k])) / last;
  }
  // q_high: the smallest q with Q(q) >= 0.
  double q_high;
  if (v[n - 1] < 0) {
    q_high = 1;
  } else if (v[0] >= 0) {
    q_high = 0;
  } else {
    const auto k = static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), 0.0) - v.begin());
    q_high = (static_cast<double>(k - 1) + (0 - v[k - 1]) / (v[k] - v[k - 1])) / last;
  }
  return std::min(1.0, 2 * std::min(q_low, 1 - q_high));
}

CorrelationMatrix correlation_matrix(const std::vector<std::vector<double>>& matrices, int M,
                                     Method m, const BootstrapOptions& opt) {
  check_options(opt);
  const std::size_t K = checked_configurations(matrices, M, "configuration");
  CorrelationMatrix out;
  out.K = static_cast<int>(K);
  for (auto* v : {&out.r, &out.p, &out.ci_low, &out.ci_high, &out.ci_p}) v->assign(K * K, kNaN);
  out.n.assign(K * K, 0);

  std::vector<std::vector<double>> vectors(K);
  for (std::size_t k = 0; k < K; ++k) vectors[k] = upper_triangle(matrices[k], M);
  for (std::size_t a = 0; a < K; ++a)
    for (std::size_t b = a; b < K; ++b) {
      auto c = correlate_finite(vectors[a], vectors[b], m);
      if (a == b && !std::isnan(c.r)) {
        c.r = 1.0;
        c.p = 0.0;
      }
      out.r[a * K + b] = out.r[b * K + a] = c.r;
      out.p[a * K + b] = out.p[b * K + a] = c.p;
      out.n[a * K + b] = out.n[b * K + a] = c.n;
    }
  if (opt.resamples == 0 || K == 0) return out;

  // r* per configuration pair a <= b, finite values only.
  std::vector<std::vector<double>> stars(K * K);
  for (auto& s : stars) s.reserve(static_cast<std::size_t>(opt.resamples));
  std::mt19937_64 rng(opt.seed);
  ResampleCorrelator correlator(matrices, m);
  std::vector<double> r(K * K, kNaN);
  for (int it = 0; it < opt.resamples; ++it) {
    const auto idx = resampled_pair_index(M, resample_models(rng, M));
    correlator.compute(idx, r);
    for (std::size_t a = 0; a < K; ++a)
      for (std::size_t b = a; b < K; ++b)
        if (std::isfinite(r[a * K + b])) stars[a * K + b].push_back(r[a * K + b]);
  }
  for (std::size_t a = 0; a < K; ++a)
    for (std::size_t b = a; b < K; ++b) {
      if (std::isnan(out.r[a * K + b])) continue;
      double low, high;
      percentile_interval(stars[a * K + b], opt.resamples, opt.confidence, low, high);  // sorts
      const double p = std::isnan(low) ? kNaN : percentile_pvalue(stars[a * K + b]);
      out.ci_p[a * K + b] = out.ci_p[b * K + a] = p;
      if (a == b && !std::isnan(low)) low = high = 1.0;  // r* of a vector with itself
      out.ci_low[a * K + b] = out.ci_low[b * K + a] = low;
      out.ci_high[a * K + b] = out.ci_high[b * K + a] = high;
    }
  return out;
}

CorrelationDifference compare_correlations(const std::vector<std::vector<double>>& set1,
                                           const std::vector<std::vector<double>>& set2, int M,
                                           Method m, const BootstrapOptions& opt) {
  check_options(opt);
  PRH_CHECK_INPUT(set1.size() == set2.size(),
                  "comparison of image sets with different numbers of configurations ({} vs {})",
                  set1.size(), set2.size());
  const std::size_t K = checked_configurations(set1, M, "first set, configuration");
  checked_configurations(set2, M, "second set, configuration");
  BootstrapOptions no_bootstrap = opt;
  no_bootstrap.resamples = 0;
  const auto c1 = correlation_matrix(set1, M, m, no_bootstrap);
  const auto c2 = correlation_matrix(set2, M, m, no_bootstrap);

  CorrelationDifference out;
  out.K = static_cast<int>(K);
  for (auto* v : {&out.diff, &out.ci_low, &out.ci_high, &out.p}) v->assign(K * K, kNaN);
  for (std::size_t e = 0; e < K * K; ++e) out.diff[e] = c1.r[e] - c2.r[e];  // NaN stays NaN
  if (opt.resamples == 0 || K == 0) return out;

  std::vector<std::vector<double>> stars(K * K);  // d* per configuration pair a < b
  for (auto& s : stars) s.reserve(static_cast<std::size_t>(opt.resamples));
  std::mt19937_64 rng(opt.seed);
  ResampleCorrelator correlator1(set1, m), correlator2(set2, m);
  std::vector<double> r1(K * K, kNaN), r2(K * K, kNaN);
  for (int it = 0; it < opt.resamples; ++it) {
    const auto idx = resampled_pair_index(M, resample_models(rng, M));
    correlator1.compute(idx, r1);
    correlator2.compute(idx, r2);
    for (std::size_t a = 0; a < K; ++a)
      for (std::size_t b = a + 1; b < K; ++b) {
        const double d = r1[a * K + b] - r2[a * K + b];
        if (std::isfinite(d)) stars[a * K + b].push_back(d);
      }
  }
  for (std::size_t a = 0; a < K; ++a) {
    const std::size_t aa = a * K + a;
    if (!std::isnan(out.diff[aa])) {
      out.ci_low[aa] = out.ci_high[aa] = 0.0;
      out.p[aa] = 1.0;
    }
    for (std::size_t b = a + 1; b < K; ++b) {
      const std::size_t ab = a * K + b, ba = b * K + a;
      const double d = out.diff[ab];
      auto& s = stars[ab];
      if (std::isnan(d) || s.empty() || 2 * s.size() < static_cast<std::size_t>(opt.resamples))
        continue;
      double low, high;
      percentile_interval(s, opt.resamples, opt.confidence, low, high);  // sorts s
      out.p[ab] = out.p[ba] = percentile_pvalue(s);
      out.ci_low[ab] = out.ci_low[ba] = low;
      out.ci_high[ab] = out.ci_high[ba] = high;
    }
  }
  return out;
}

}  // namespace prh::stats
