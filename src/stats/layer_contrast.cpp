#include "prh/stats/layer_contrast.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "prh/core/error.hpp"

namespace prh::stats {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Ordered pairs u != v as u * M + v: every one (drawn empty) or those of the
// resample positions a != b whose drawn models differ.
std::vector<std::size_t> pair_index(int M, const std::vector<int>* drawn) {
  std::vector<std::size_t> idx;
  const auto m = static_cast<std::size_t>(M);
  if (!drawn) {
    for (std::size_t u = 0; u < m; ++u)
      for (std::size_t v = 0; v < m; ++v)
        if (u != v) idx.push_back(u * m + v);
    return idx;
  }
  for (int a : *drawn)
    for (int b : *drawn)
      if (a != b) idx.push_back(static_cast<std::size_t>(a) * m + static_cast<std::size_t>(b));
  return idx;
}

double mean_at(const std::vector<double>& s, const std::vector<std::size_t>& idx) {
  double sum = 0;
  std::size_t n = 0;
  for (auto x : idx)
    if (std::isfinite(s[x])) sum += s[x], ++n;
  return n ? sum / static_cast<double>(n) : kNaN;
}

// diff [S*K] and change [S*K] over the pairs `idx`.
void statistics(const DepthContrastInput& in, std::size_t S, std::size_t K,
                const std::vector<std::size_t>& idx, std::vector<double>& diff,
                std::vector<double>& change) {
  diff.assign(S * K, kNaN);
  change.assign(S * K, kNaN);
  for (std::size_t s = 0; s < S; ++s)
    for (std::size_t k = 0; k < K; ++k)
      diff[s * K + k] = mean_at(in.early[s][k], idx) - mean_at(in.late[s][k], idx);
  const auto r = static_cast<std::size_t>(in.reference);
  for (std::size_t s = 0; s < S; ++s)
    for (std::size_t k = 0; k < K; ++k) change[s * K + k] = diff[s * K + k] - diff[r * K + k];
}

// Interval and p of the finite values of one statistic over the resamples.
void summarize(std::vector<double> v, const BootstrapOptions& opt, double& low, double& high,
               double& p) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  percentile_interval(v, opt.resamples, opt.confidence, low, high);  // sorts
  p = std::isnan(low) ? kNaN : percentile_pvalue(v);
}

}  // namespace

DepthContrast depth_contrast(const DepthContrastInput& in, const BootstrapOptions& opt) {
  PRH_CHECK_INPUT(in.M >= 0, "number of models must not be negative, got {}", in.M);
  PRH_CHECK_INPUT(in.early.size() == in.late.size(), "early: {} sets, late: {}", in.early.size(),
                  in.late.size());
  const std::size_t S = in.early.size();
  PRH_CHECK_INPUT(S == 0 || (in.reference >= 0 && static_cast<std::size_t>(in.reference) < S),
                  "reference set {} outside [0, {})", in.reference, S);
  const std::size_t K = S ? in.early[0].size() : 0;
  const auto mm = static_cast<std::size_t>(in.M) * static_cast<std::size_t>(in.M);
  for (std::size_t s = 0; s < S; ++s) {
    PRH_CHECK_INPUT(in.early[s].size() == K && in.late[s].size() == K,
                    "set {}: {} and {} configurations, expected {}", s, in.early[s].size(),
                    in.late[s].size(), K);
    for (std::size_t k = 0; k < K; ++k)
      PRH_CHECK_INPUT(in.early[s][k].size() == mm && in.late[s][k].size() == mm,
                      "set {}, configuration {}: a matrix that is not {} x {}", s, k, in.M, in.M);
  }
  PRH_CHECK_INPUT(opt.resamples >= 0, "resamples must not be negative, got {}", opt.resamples);
  PRH_CHECK_INPUT(opt.confidence > 0 && opt.confidence < 1, "confidence {} outside (0, 1)",
                  opt.confidence);

  DepthContrast out;
  out.S = static_cast<int>(S);
  out.K = static_cast<int>(K);
  statistics(in, S, K, pair_index(in.M, nullptr), out.diff, out.change);
  const std::size_t n = S * K;
  out.diff_low = out.diff_high = out.diff_p = std::vector<double>(n, kNaN);
  out.change_low = out.change_high = out.change_p = out.diff_low;
  if (opt.resamples == 0 || n == 0) return out;

  const auto B = static_cast<std::size_t>(opt.resamples);
  std::vector<std::vector<double>> dstar(n, std::vector<double>(B)), cstar = dstar;
  std::mt19937_64 rng(opt.seed);
  std::vector<double> d, c;
  for (std::size_t b = 0; b < B; ++b) {
    const auto drawn = resample_models(rng, in.M);
    statistics(in, S, K, pair_index(in.M, &drawn), d, c);
    for (std::size_t t = 0; t < n; ++t) {
      dstar[t][b] = d[t];
      cstar[t][b] = c[t];
    }
  }
  for (std::size_t t = 0; t < n; ++t) {
    if (!std::isnan(out.diff[t]))
      summarize(std::move(dstar[t]), opt, out.diff_low[t], out.diff_high[t], out.diff_p[t]);
    if (!std::isnan(out.change[t]))
      summarize(std::move(cstar[t]), opt, out.change_low[t], out.change_high[t], out.change_p[t]);
  }
  return out;
}

}  // namespace prh::stats
