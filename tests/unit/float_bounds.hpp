#pragma once
// Rounding bounds for tests that compare two computations of one quantity
// (two BLAS kernels, two summation orders, two devices): what they may differ
// by, derived from the arithmetic rather than measured on one machine
// (docs/testing.md, "Numbers across machines").
//
// A dot product of length n, summed in a floating-point type of unit
// roundoff u in ANY order, with or without fused multiply-adds, satisfies
//     |fl(x . y) - x . y| <= gamma(n) * sum_i |x_i| |y_i|,
//     gamma(n) = n u / (1 - n u)
// (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., 2002,
// section 3.1, eq. 3.5; OpenBLAS's kernels differ only in the order and the
// use of FMA). Two such computations of the same exact value differ by at
// most twice that: c = 2, each may err by the bound in opposite directions.
// And sum_i |x_i| |y_i| <= |x| |y| (Cauchy-Schwarz), so for rows of norm
// |x|, |y| the bound is 2 gamma(n) |x| |y|.

#include <cmath>

namespace prh::testing {

constexpr double kUnitRoundoff32 = 0x1p-24;  // float32
constexpr double kUnitRoundoff64 = 0x1p-53;  // double

constexpr double gamma_n(double n, double u) {
  return n * u / (1.0 - n * u);
}

// |two float32 computations of x . y| differ by at most this, for a length-n
// product with sum |x_i| |y_i| <= abs_dot.
inline double dot_difference_bound(double n, double abs_dot, double u = kUnitRoundoff32) {
  return 2.0 * gamma_n(n, u) * abs_dot;
}

}  // namespace prh::testing
