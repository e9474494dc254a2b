#include "prh/metrics/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "prh/core/error.hpp"

namespace prh::metrics {

void check_finite(const MatrixF& x, const std::string& what) {
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < x.cols(); ++j) {
      const float v = x(i, j);
      PRH_CHECK_INPUT(std::isfinite(v), "{}: row {} holds a non-finite value ({} at column {})",
                      what, i, v, j);
    }
  }
}

namespace {

// Linear interpolation between order statistics (numpy/torch "linear").
double quantile_linear(std::vector<float>& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const double frac = pos - static_cast<double>(lo);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  if (frac == 0.0 || lo + 1 >= v.size()) return a;
  // The next order statistic is the minimum of the upper part.
  const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return a + frac * (b - a);
}

}  // namespace

double outlier_threshold(const MatrixF& x, double q, bool exact) {
  PRH_CHECK_INPUT(q > 0.0 && q < 1.0, "clamp quantile q must be in (0, 1), got {}", q);
  PRH_CHECK_INPUT(x.size() > 0, "cannot clamp an empty feature matrix");
  if (exact) {
    std::vector<float> all(static_cast<std::size_t>(x.size()));
    for (Index i = 0; i < x.size(); ++i) all[static_cast<std::size_t>(i)] = std::fabs(x.data()[i]);
    auto idx = static_cast<std::size_t>(q * static_cast<double>(all.size()));
    idx = std::min(idx, all.size() - 1);
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(idx), all.end());
    return all[idx];
  }
  std::vector<float> row(static_cast<std::size_t>(x.cols()));
  double sum = 0.0;
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < x.cols(); ++j) row[static_cast<std::size_t>(j)] = std::fabs(x(i, j));
    sum += quantile_linear(row, q);
  }
  return sum / static_cast<double>(x.rows());
}

void preprocess(MatrixF& x, const PreprocessOptions& opt) {
  if (opt.clamp && opt.q < 1.0) {
    const auto t = static_cast<float>(outlier_threshold(x, opt.q, opt.exact));
    x = x.cwiseMax(-t).cwiseMin(t);
  }
  if (opt.normalize) {
    for (Index i = 0; i < x.rows(); ++i) {
      double ss = 0.0;
      for (Index j = 0; j < x.cols(); ++j) ss += static_cast<double>(x(i, j)) * x(i, j);
      if (ss > 0.0) x.row(i) *= static_cast<float>(1.0 / std::sqrt(ss));
    }
  }
}

}  // namespace prh::metrics
