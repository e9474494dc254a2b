// prh's own normal and Student t tails (src/stats/distributions.cpp: the
// fallback for machines without Boost) against Boost.Math, over a grid of t
// and degrees of freedom. Runs where Boost is installed (the normal build);
// without Boost only the known values below are checked.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "prh/stats/distributions.hpp"

#ifdef PRH_HAVE_BOOST
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#endif

using namespace prh::stats;

// Relative tolerance against Boost wherever the tail is a normal double
// (>= 1e-300): 1e-12 up to df = 1000 (prh's p-values use df = pairs - 2);
// the error grows about linearly with df beyond (2e-11 measured at df = 10^6),
// so 1e-10 there.
constexpr double kRelTol = 1e-12;
constexpr double kRelTolLargeDf = 1e-10;

TEST(Distributions, KnownValues) {
  EXPECT_NEAR(normal_sf(0), 0.5, 1e-16);
  EXPECT_NEAR(normal_sf(1.959963984540054), 0.025, 1e-15);
  EXPECT_NEAR(student_t_sf(0, 5), 0.5, 1e-15);
  // t with 1 degree of freedom is Cauchy: P(T > t) = 1/2 - atan(t) / pi.
  for (double t : {-3.0, -0.5, 0.25, 1.0, 7.0, 1e3})
    EXPECT_NEAR(student_t_sf(t, 1), 0.5 - std::atan(t) / M_PI, 1e-14) << t;
  // df = 2: P(T > t) = 1/2 - t / (2 sqrt(t^2 + 2)).
  for (double t : {-2.0, 0.1, 1.5, 30.0})
    EXPECT_NEAR(student_t_sf(t, 2), 0.5 - t / (2 * std::sqrt(t * t + 2)), 1e-14) << t;
  EXPECT_NEAR(student_t_sf(2.228138851986274, 10), 0.025, 1e-14);  // the textbook 97.5% point
  EXPECT_EQ(student_t_sf(INFINITY, 3), 0.0);
  EXPECT_EQ(student_t_sf(-INFINITY, 3), 1.0);
  EXPECT_TRUE(std::isnan(student_t_sf(1, 0)));
  EXPECT_TRUE(std::isnan(student_t_sf(NAN, 3)));
  EXPECT_TRUE(std::isnan(incomplete_beta(1, 1, 1.5)));
  EXPECT_NEAR(incomplete_beta(2, 3, 0.4), 0.5248, 1e-15);  // 1 - (0.6^4 + 4 * 0.4 * 0.6^3)
}

#ifdef PRH_HAVE_BOOST
TEST(Distributions, MatchBoostOverAGrid) {
  std::vector<double> ts{0, 1e-6, 0.01, 0.1, 0.5, 1,  1.5, 2,   2.5, 3,   4,
                         5, 7,    10,   15,  20,  30, 50,  100, 300, 1e3, 1e4};
  std::vector<double> dfs{1,  1.5, 2,   3,   4,   5,    7,    10,  13,  20,
                          30, 50,  100, 200, 500, 1000, 3000, 1e4, 1e5, 1e6};
  int compared = 0;
  double worst = 0;
  for (double df : dfs)
    for (double t0 : ts)
      for (double t : {t0, -t0}) {
        const double want =
            boost::math::cdf(boost::math::complement(boost::math::students_t(df), t));
        const double got = student_t_sf(t, df);
        if (want < 1e-300) {
          EXPECT_LT(got, 1e-290) << "t " << t << " df " << df;
          continue;
        }
        const double rel = std::fabs(got - want) / want;
        worst = std::max(worst, rel);
        EXPECT_LE(rel, df <= 1000 ? kRelTol : kRelTolLargeDf)
            << "t " << t << " df " << df << ": " << got << " vs " << want;
        ++compared;
      }
  for (double z = -40; z <= 40; z += 0.25) {
    const double want = boost::math::cdf(boost::math::complement(boost::math::normal(), z));
    if (want < 1e-300) continue;
    const double rel = std::fabs(normal_sf(z) - want) / want;
    worst = std::max(worst, rel);
    EXPECT_LE(rel, kRelTol) << "z " << z;
    ++compared;
  }
  EXPECT_GT(compared, 1000);
  std::printf("[          ] %d values, worst relative difference %.3g\n", compared, worst);
}
#endif
