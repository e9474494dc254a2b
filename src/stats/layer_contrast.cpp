#include "prh/stats/layer_contrast.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "pair_mean.hpp"
#include "prh/core/error.hpp"
#include "prh/stats/distributions.hpp"
#include "prh/stats/nan.hpp"

namespace prh::stats {

namespace {

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

using detail::mean_at;

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

// x with f(x) = target for a decreasing f on [0, inf), by bisection (f(0)
// >= target > 0).
template <typename F>
double invert_decreasing(F f, double target) {
  double lo = 0, hi = 1;
  while (f(hi) > target && hi < 1e12) hi *= 2;
  for (int it = 0; it < 200 && hi - lo > 1e-14 * (1 + hi); ++it) {
    const double mid = (lo + hi) / 2;
    (f(mid) > target ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// Which models have a finite off-diagonal entry in any of the matrices.
std::vector<char> models_present(const std::vector<const std::vector<double>*>& ms, int M) {
  const auto m = static_cast<std::size_t>(M);
  std::vector<char> here(m, 0);
  for (std::size_t i = 0; i < m; ++i)
    for (const auto* s : ms)
      for (std::size_t j = 0; j < m && !here[i]; ++j)
        here[i] = j != i && (std::isfinite((*s)[i * m + j]) || std::isfinite((*s)[j * m + i]));
  return here;
}

// Interval and p of one statistic from its leave-one-model-out values
// `loo[i]` (used where present[i]).
void summarize(double est, const std::vector<double>& loo, const std::vector<char>& present,
               double confidence, double& low, double& high, double& p) {
  low = high = p = kNaN;
  std::vector<double> v;
  for (std::size_t i = 0; i < loo.size(); ++i)
    if (present[i]) v.push_back(loo[i]);
  const auto n = v.size();
  if (n < 3 || std::isnan(est)) return;
  for (double x : v)
    if (!std::isfinite(x)) return;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(n);
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const double nn = static_cast<double>(n);
  const double se = std::sqrt((nn - 1) / nn * ss);
  const double df = nn - 1;
  if (!(se > 0)) {  // no spread over the models: the estimate is all there is
    low = high = est;
    p = est == 0 ? 1.0 : 0.0;
    return;
  }
  const double tq =
      invert_decreasing([df](double x) { return student_t_sf(x, df); }, (1 - confidence) / 2);
  low = est - tq * se;
  high = est + tq * se;
  p = std::min(1.0, 2 * student_t_sf(std::fabs(est) / se, df));
}
}  // namespace

DepthContrast depth_contrast(const DepthContrastInput& in, double confidence) {
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
  PRH_CHECK_INPUT(confidence > 0 && confidence < 1, "confidence {} outside (0, 1)", confidence);

  DepthContrast out;
  out.S = static_cast<int>(S);
  out.K = static_cast<int>(K);
  statistics(in, S, K, pair_index(in.M, nullptr), out.diff, out.change);
  const std::size_t n = S * K;
  out.diff_low = out.diff_high = out.diff_p = std::vector<double>(n, kNaN);
  out.change_low = out.change_high = out.change_p = out.diff_low;
  if (n == 0) return out;

  // The statistics without model i, for every i.
  const auto M = static_cast<std::size_t>(in.M);
  std::vector<std::vector<double>> dloo(n, std::vector<double>(M, kNaN)), cloo = dloo;
  std::vector<double> d, c;
  for (std::size_t i = 0; i < M; ++i) {
    std::vector<int> rest;
    for (std::size_t j = 0; j < M; ++j)
      if (j != i) rest.push_back(static_cast<int>(j));
    statistics(in, S, K, pair_index(in.M, &rest), d, c);
    for (std::size_t t = 0; t < n; ++t) {
      dloo[t][i] = d[t];
      cloo[t][i] = c[t];
    }
  }
  const auto r = static_cast<std::size_t>(in.reference);
  for (std::size_t t = 0; t < n; ++t) {
    const std::size_t s = t / K, k = t % K;
    summarize(out.diff[t], dloo[t], models_present({&in.early[s][k], &in.late[s][k]}, in.M),
              confidence, out.diff_low[t], out.diff_high[t], out.diff_p[t]);
    summarize(
        out.change[t], cloo[t],
        models_present({&in.early[s][k], &in.late[s][k], &in.early[r][k], &in.late[r][k]}, in.M),
        confidence, out.change_low[t], out.change_high[t], out.change_p[t]);
  }
  return out;
}

}  // namespace prh::stats
