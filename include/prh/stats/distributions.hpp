#pragma once
// Upper tails of the standard normal and Student t distributions, for the
// p-values of correlations. Hand-written (not Boost.Math) because machines
// that build prh against PyTorch's LibTorch, e.g. the GPU image, have no
// Boost; where Boost is installed prh uses Boost.Math and
// tests/unit/test_stats_distributions.cpp checks these against it.

namespace prh::stats {

// P(Z > z) for a standard normal Z: erfc(z / sqrt(2)) / 2 (accurate in the
// far upper tail too; 1 - cdf would round to 0).
double normal_sf(double z);

// P(T > t) for Student's t with df > 0 degrees of freedom (df need not be an
// integer): I_x(df/2, 1/2) / 2 with x = df / (df + t^2) for t >= 0, and
// 1 - P(T > -t) for t < 0. NaN for df <= 0 or a NaN argument. Relative
// error against Boost.Math: below 1e-12 up to df = 1000 (prh's p-values use
// df = pairs - 2), growing about linearly with df beyond (2e-11 at 10^6: the
// continued fraction's terms cancel for x near (a + 1) / (a + b + 2)).
double student_t_sf(double t, double df);

// The regularised incomplete beta function I_x(a, b) for a, b > 0 and x in
// [0, 1]: the continued fraction of Numerical Recipes (betacf, evaluated with
// the modified Lentz method), on the side of x where it converges fast
// (x < (a + 1) / (a + b + 2)), else through I_x(a, b) = 1 - I_{1-x}(b, a);
// log B(a, b) from Stirling's series when an argument is large.
double incomplete_beta(double a, double b, double x);
// The same with y = 1 - x given separately (exact where 1 - x would round).
double incomplete_beta(double a, double b, double x, double y);

}  // namespace prh::stats
