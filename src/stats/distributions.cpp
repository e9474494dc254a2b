// The normal and Student t upper tails without Boost (see distributions.hpp:
// the GPU image has no Boost). Compiled in every build so that the unit test
// can compare it with Boost.Math where Boost is present.

#include "prh/stats/distributions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace prh::stats {

namespace {

// The continued fraction of I_x(a, b) (Numerical Recipes, 3rd ed., 6.4),
// by the modified Lentz method; converges fast for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 10000;
  constexpr double kEps = 1e-16;
  constexpr double kTiny = 1e-300;  // stands in for a zero denominator
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) break;
  }
  return h;
}

// lgamma(z) - Stirling's approximation (z - 1/2) log z - z + log(2 pi) / 2,
// for z >= 10: the first terms of the asymptotic series (error < 1e-17).
double lgamma_correction(double z) {
  const double z2 = 1 / (z * z);
  return (1.0 / 12 - z2 * (1.0 / 360 - z2 * (1.0 / 1260 - z2 * (1.0 / 1680 - z2 / 1188)))) / z;
}

// log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b). When one argument is
// large the three lgammas are large and nearly cancel (df = 10^6 lost 7
// digits), so lgamma(big + small) - lgamma(big) is taken from Stirling's
// series: (big - 1/2) log1p(small / big) + small log(big + small) - small
// + the corrections.
double log_beta(double a, double b) {
  const double big = std::max(a, b), small = std::min(a, b);
  if (big < 10) return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  const double diff = (big - 0.5) * std::log1p(small / big) + small * std::log(big + small) -
                      small + lgamma_correction(big + small) - lgamma_correction(big);
  return std::lgamma(small) - diff;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  return incomplete_beta(a, b, x, 1 - x);
}

double incomplete_beta(double a, double b, double x, double y) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1) || !(y >= 0) || !(y <= 1))
    return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return 0;
  if (y == 0) return 1;
  // x^a y^b / B(a, b), in logs, each log from whichever of x, y is small.
  const double log_x = x < 0.5 ? std::log(x) : std::log1p(-y);
  const double log_y = y < 0.5 ? std::log(y) : std::log1p(-x);
  const double front = std::exp(a * log_x + b * log_y - log_beta(a, b));
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, y) / b;
}

double normal_sf(double z) {
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

double student_t_sf(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
  // P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2); half of it on each side.
  // 1 - x = t^2 / (df + t^2) is passed as computed: for small t, 1 - x in
  // floating point would keep only a few digits of it.
  const double x = df / (df + t * t), y = t * t / (df + t * t);
  const double two_sided = incomplete_beta(df / 2, 0.5, x, y);
  return t >= 0 ? two_sided / 2 : 1 - two_sided / 2;
}

}  // namespace prh::stats
