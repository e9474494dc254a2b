#include "prh/stats/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "prh/core/error.hpp"
#include "prh/stats/bootstrap.hpp"
#include "prh/stats/nan.hpp"

namespace prh::stats {

namespace {

std::vector<double> finite_sorted(const std::vector<double>& v) {
  std::vector<double> out;
  out.reserve(v.size());
  for (double x : v)
    if (std::isfinite(x)) out.push_back(x);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::int64_t threshold_rank(double alpha, std::int64_t K) {
  const double r = std::ceil((1.0 - alpha) * static_cast<double>(K + 1) - 1e-9);
  return std::clamp(static_cast<std::int64_t>(r), std::int64_t{1}, K + 1);
}

Calibration calibrate(double observed, const std::vector<double>& null, double alpha) {
  PRH_CHECK_INPUT(alpha > 0 && alpha < 1, "calibration alpha must lie in (0, 1), got {}", alpha);
  Calibration c;
  std::vector<double> all = finite_sorted(null);
  c.count = static_cast<std::int64_t>(all.size());
  if (std::isnan(observed) || all.empty()) {
    c.threshold = c.pvalue = c.calibrated = c.null_mean = c.null_sd = kNaN;
    return c;
  }
  const auto K = c.count;
  const auto above = all.end() - std::lower_bound(all.begin(), all.end(), observed);
  c.pvalue = static_cast<double>(1 + above) / static_cast<double>(K + 1);
  const double sum = std::accumulate(all.begin(), all.end(), 0.0);
  c.null_mean = sum / static_cast<double>(K);
  if (K >= 2) {
    double ss = 0;
    for (double x : all) ss += (x - c.null_mean) * (x - c.null_mean);
    c.null_sd = std::sqrt(ss / static_cast<double>(K - 1));
  } else {
    c.null_sd = kNaN;
  }
  all.insert(std::upper_bound(all.begin(), all.end(), observed), observed);
  c.threshold = all[static_cast<std::size_t>(threshold_rank(alpha, K) - 1)];
  c.calibrated = c.threshold >= 1.0
                     ? 0.0
                     : std::clamp((observed - c.threshold) / (1.0 - c.threshold), 0.0, 1.0);
  return c;
}

std::vector<double> bh_qvalues(const std::vector<double>& p) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] < p[b]; });
  std::vector<double> q(p.size(), kNaN);
  const auto m = static_cast<double>(order.size());
  double running = 1.0;
  for (std::size_t r = order.size(); r-- > 0;) {
    running = std::min(running, m * p[order[r]] / static_cast<double>(r + 1));
    q[order[r]] = running;
  }
  return q;
}

NullSummary summarize_null(double observed, const std::vector<double>& null) {
  NullSummary s;
  const std::vector<double> all = finite_sorted(null);
  s.count = static_cast<std::int64_t>(all.size());
  if (std::isnan(observed) || all.empty()) {
    s.mean = s.q95 = s.p = kNaN;
    return s;
  }
  s.mean = std::accumulate(all.begin(), all.end(), 0.0) / static_cast<double>(all.size());
  s.q95 = quantile_sorted(all, 0.95);
  const auto above = all.end() - std::lower_bound(all.begin(), all.end(), observed);
  s.p = static_cast<double>(1 + above) / static_cast<double>(1 + all.size());
  return s;
}

namespace {

// Sample variance (n - 1) of the finite values; NaN with fewer than two.
double sample_variance(const double* x, std::size_t n) {
  double sum = 0;
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(x[i])) sum += x[i], ++m;
  if (m < 2) return kNaN;
  const double mean = sum / static_cast<double>(m);
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(x[i])) ss += (x[i] - mean) * (x[i] - mean);
  return ss / static_cast<double>(m - 1);
}

}  // namespace

double chance_share(const std::vector<double>& observed, const std::vector<double>& null,
                    std::size_t permutations) {
  PRH_CHECK_INPUT(null.size() == observed.size() * permutations,
                  "chance share: {} null scores for {} pairs of {} permutations", null.size(),
                  observed.size(), permutations);
  std::vector<double> obs;
  double null_var = 0;
  for (std::size_t p = 0; p < observed.size(); ++p) {
    if (std::isnan(observed[p])) continue;
    const double v = sample_variance(null.data() + p * permutations, permutations);
    if (std::isnan(v)) continue;
    obs.push_back(observed[p]);
    null_var += v;
  }
  if (obs.size() < 2) return kNaN;
  null_var /= static_cast<double>(obs.size());
  const double obs_var = sample_variance(obs.data(), obs.size());
  return obs_var > 0 ? null_var / obs_var : kNaN;
}

}  // namespace prh::stats
