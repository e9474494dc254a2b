#include <gtest/gtest.h>

#include <cmath>

#include <fmt/format.h>
#include "helpers.hpp"

#include "naive.hpp"
#include "prh/metrics/hsic.hpp"

using namespace prh::metrics;
using testing_helpers::raw;
using testing_helpers::score;

namespace {
// 1-D features a = (1,2,3,4), b = (1,3,2,4): centred a = (-1.5,-.5,.5,1.5),
// b = (-1.5,.5,-.5,1.5); a.b = 4, a.a = b.b = 5.
MatrixF col(std::initializer_list<float> v) {
  MatrixF x(static_cast<Index>(v.size()), 1);
  Index i = 0;
  for (float f : v) x(i++, 0) = f;
  return x;
}
}  // namespace

TEST(Cka, LinearByHand) {
  // HSIC_b(K,L) = (a.b)^2 = 16, HSIC_b(K,K) = HSIC_b(L,L) = 25: 16 / (25 + 1e-6).
  EXPECT_NEAR(score(col({1, 2, 3, 4}), col({1, 3, 2, 4}), "cka", raw()), 16.0 / (25.0 + 1e-6),
              1e-12);
}

TEST(Cka, UnbiasedLinearByHand) {
  // With K~ the off-diagonal of (a a^T): sum K~.L~ = 16 - 10.25 = 5.75;
  // sum K~ = sum L~ = -5; (K~1).(L~1) = 10.25. HSIC_u(K,L) =
  // (5.75 + 25/6 - 10.25) / 4 = -1/12; HSIC_u(K,K) = (25 - 10.25 + 25/6 - 10.25)/4 = 13/6.
  const double want = (-1.0 / 12) / (13.0 / 6 + 1e-6);
  EXPECT_NEAR(score(col({1, 2, 3, 4}), col({1, 3, 2, 4}), "unbiased_cka", raw()), want, 1e-12);
}

TEST(Cka, RbfByHandTwoPoints) {
  // Two points: K = [[1, e],[e, 1]], e = exp(-d^2/2); H K H = (1-e)/2 [[1,-1],[-1,1]];
  // HSIC_b(K,L) = trace(HKH HLH) = (1-e)(1-f); so CKA = 1 - tiny (eps) for any d.
  MatrixF a(2, 1), b(2, 1);
  a << 0, 1;
  b << 0, 2;
  const double e = std::exp(-0.5), f = std::exp(-2.0);
  const double want = (1 - e) * (1 - f) / (std::sqrt((1 - e) * (1 - e) * (1 - f) * (1 - f)) + 1e-6);
  EXPECT_NEAR(score(a, b, "cka:kernel=rbf", raw()), want, 1e-12);
}

TEST(Cka, IdenticalInputsGiveOne) {
  // h / (h + 1e-6): the spec's epsilon keeps identical inputs a hair below 1,
  // visibly so for the unbiased estimator, whose HSIC is divided by N(N-3).
  const MatrixF x = naive::random_matrix(60, 10, 4);
  EXPECT_NEAR(score(x, x, "cka"), 1.0, 1e-6);
  EXPECT_NEAR(score(x, x, "unbiased_cka"), 1.0, 1e-4);
  EXPECT_NEAR(score(x, x, "cka:kernel=rbf,sigma=0.5"), 1.0, 1e-6);
  EXPECT_NEAR(score(x, x, "unbiased_cka:kernel=rbf"), 1.0, 1e-3);
  const auto h = hsic_rbf(x, x, 1.0);
  EXPECT_NEAR(score(x, x, "unbiased_cka:kernel=rbf", testing_helpers::raw()),
              h.unbiased_kk / (h.unbiased_kk + 1e-6), 1e-12);
}

TEST(Cka, MatchesNaiveDense) {
  const auto [a, b] = naive::related_pair(203, 17, 11, 8);
  EXPECT_NEAR(score(a, b, "cka", raw()), naive::cka(a, b, false), 1e-6);
  EXPECT_NEAR(score(a, b, "unbiased_cka", raw()), naive::cka(a, b, true), 1e-6);
  for (double sigma : {0.3, 1.0, 2.5}) {
    const auto spec = fmt::format("kernel=rbf,sigma={}", sigma);
    EXPECT_NEAR(score(a, b, "cka:" + spec, raw()), naive::cka(a, b, false, true, sigma), 1e-7);
    EXPECT_NEAR(score(a, b, "unbiased_cka:" + spec, raw()), naive::cka(a, b, true, true, sigma),
                1e-7);
  }
}

TEST(Cka, RbfTilesNotAMultipleOfN) {
  const auto [a, b] = naive::related_pair(150, 6, 6, 12);
  const auto whole = hsic_rbf(a, b, 0.8, 1000);
  const auto tiled = hsic_rbf(a, b, 0.8, 64);
  EXPECT_NEAR(tiled.biased_kl, whole.biased_kl, 1e-9 * std::abs(whole.biased_kl));
  EXPECT_NEAR(tiled.unbiased_kl, whole.unbiased_kl, 1e-9 * std::abs(whole.unbiased_kl) + 1e-15);
  const naive::Dense k = naive::rbf(a, 0.8), l = naive::rbf(b, 0.8);
  EXPECT_NEAR(tiled.biased_kl, naive::hsic_biased(k, l), 1e-6 * std::abs(tiled.biased_kl));
  EXPECT_NEAR(tiled.unbiased_kl, naive::hsic_unbiased(k, l), 1e-9);
}

TEST(Cka, NonPositiveNormaliserGivesNaN) {
  EXPECT_TRUE(std::isnan(cka_ratio(1.0, -1.0, 2.0)));
  EXPECT_TRUE(std::isnan(cka_ratio(1.0, 0.0, 2.0)));
  EXPECT_DOUBLE_EQ(cka_ratio(2.0, 4.0, 1.0), 2.0 / (2.0 + 1e-6));
  // Constant features: HSIC(K,K) = 0 -> NaN, not a crash.
  const MatrixF c = MatrixF::Ones(10, 3);
  const MatrixF x = naive::random_matrix(10, 3, 1);
  EXPECT_TRUE(std::isnan(score(c, x, "cka", raw())));
}
