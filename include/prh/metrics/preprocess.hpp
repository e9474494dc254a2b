#pragma once
// Preprocessing applied per model and layer before any metric (metrics.md):
// outlier clamp at quantile q, then L2 normalisation of every row.

#include <string>

#include "prh/metrics/matrix.hpp"

namespace prh::metrics {

struct PreprocessOptions {
  bool clamp = true;      // outlier clamp on/off (q = 1 also disables it)
  double q = 0.95;        // quantile of |x|
  bool exact = false;     // false: mean of per-row quantiles; true: global order statistic
  bool normalize = true;  // L2-normalise rows (zero rows stay zero)
};

// Throws InputError naming `what` and the first row holding NaN or Inf.
void check_finite(const MatrixF& x, const std::string& what);

// The clamp threshold t of metrics.md for features x (q in (0, 1)).
double outlier_threshold(const MatrixF& x, double q, bool exact);

// Applies the clamp and/or normalisation in place.
void preprocess(MatrixF& x, const PreprocessOptions& opt);

}  // namespace prh::metrics
