#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "prh/core/error.hpp"
#include "prh/stats/bootstrap.hpp"

using namespace prh::stats;

namespace {

const double kNaN = std::nan("");

// Portable normal numbers (Box-Muller on the raw mt19937_64 output), so the
// test data do not depend on the standard library.
struct Gauss {
  explicit Gauss(std::uint64_t seed) : rng(seed) {}
  double uniform() { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; }
  double operator()() {
    return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform());
  }
  std::mt19937_64 rng;
};

// Symmetric M x M matrix from its upper triangle (row-major over i < j);
// diagonal `diag`.
std::vector<double> symmetric(int M, const std::vector<double>& upper, double diag = 1) {
  std::vector<double> s(static_cast<std::size_t>(M * M), diag);
  std::size_t t = 0;
  for (int i = 0; i < M; ++i)
    for (int j = i + 1; j < M; ++j) s[i * M + j] = s[j * M + i] = upper.at(t++);
  EXPECT_EQ(t, upper.size());
  return s;
}

// Models are random points z_i in R^3; every configuration scores a pair by
// -|z_i - z_j| plus its own symmetric noise of standard deviation noise[c].
std::vector<std::vector<double>> generate(int M, const std::vector<double>& noise,
                                          std::uint64_t seed) {
  Gauss g(seed);
  std::vector<double> z(static_cast<std::size_t>(3 * M));
  for (auto& v : z) v = g();
  std::vector<std::vector<double>> out;
  for (double sd : noise) {
    std::vector<double> upper;
    for (int i = 0; i < M; ++i)
      for (int j = i + 1; j < M; ++j) {
        double d2 = 0;
        for (int k = 0; k < 3; ++k)
          d2 += (z[3 * i + k] - z[3 * j + k]) * (z[3 * i + k] - z[3 * j + k]);
        upper.push_back(-std::sqrt(d2) + sd * g());
      }
    out.push_back(symmetric(M, upper));
  }
  return out;
}

std::vector<double> map(const std::vector<double>& s, double (*f)(double)) {
  std::vector<double> out(s);
  for (auto& v : out) v = f(v);
  return out;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

}  // namespace

TEST(Bootstrap, UpperTriangle) {
  EXPECT_EQ(upper_triangle({0, 1, 2, 3, 4, 5, 6, 7, 8}, 3), (std::vector<double>{1, 2, 5}));
  std::vector<double> s(16);
  for (int i = 0; i < 16; ++i) s[i] = i;  // s[i][j] = 4i + j
  EXPECT_EQ(upper_triangle(s, 4), (std::vector<double>{1, 2, 3, 6, 7, 11}));
  EXPECT_TRUE(upper_triangle({5}, 1).empty());
  EXPECT_THROW(upper_triangle({1, 2, 3}, 2), prh::InputError);
}

TEST(Bootstrap, MeanAlignment) {
  // 0: (0.2+0.4)/2 and (0.4+0.2)/2 -> 0.3; 1: 0.3 and (0.6+0.8)/2 = 0.7 -> 0.5;
  // 2: 0.3 and 0.7 -> 0.5. The diagonal is not used.
  auto m = mean_alignment({99, 0.2, 0.4, 0.4, 99, 0.6, 0.2, 0.8, 99}, 3);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_NEAR(m[0], 0.3, 1e-15);
  EXPECT_NEAR(m[1], 0.5, 1e-15);
  EXPECT_NEAR(m[2], 0.5, 1e-15);

  // 4 x 4: pair (0,3) NaN both ways, pair (1,2) NaN in one direction: both skipped.
  // 0: (0.1 + 0.2)/2; 1: (0.1 + 0.4)/2; 2: (0.2 + 0.5)/2; 3: (0.4 + 0.5)/2.
  std::vector<double> s = symmetric(4, {0.1, 0.2, kNaN, 0.3, 0.4, 0.5}, 99);
  s[2 * 4 + 1] = kNaN;
  m = mean_alignment(s, 4);
  EXPECT_NEAR(m[0], 0.15, 1e-15);
  EXPECT_NEAR(m[1], 0.25, 1e-15);
  EXPECT_NEAR(m[2], 0.35, 1e-15);
  EXPECT_NEAR(m[3], 0.45, 1e-15);

  // A model with no finite score: NaN.
  m = mean_alignment(symmetric(3, {kNaN, kNaN, 0.5}), 3);
  EXPECT_TRUE(std::isnan(m[0]));
  EXPECT_NEAR(m[1], 0.5, 1e-15);
  EXPECT_NEAR(m[2], 0.5, 1e-15);
}

TEST(Bootstrap, CorrelateFinite) {
  const std::vector<double> x{1, kNaN, 2, 3, 4, 5, INFINITY};
  const std::vector<double> y{2, 7, 1, kNaN, 3, 5, 1};
  const auto c = correlate_finite(x, y, Method::Spearman);
  const auto want = correlate({1, 2, 4, 5}, {2, 1, 3, 5}, Method::Spearman);
  EXPECT_EQ(c.n, 4);
  EXPECT_DOUBLE_EQ(c.r, want.r);
  EXPECT_DOUBLE_EQ(c.p, want.p);
  const auto few = correlate_finite({1, kNaN, 2, 3}, {1, 2, kNaN, 3}, Method::Spearman);
  EXPECT_TRUE(std::isnan(few.r));
  EXPECT_TRUE(std::isnan(few.p));
  EXPECT_EQ(few.n, 2);
  EXPECT_THROW(correlate_finite({1, 2, 3}, {1, 2}, Method::Pearson), prh::InputError);
}

TEST(Bootstrap, QuantileLikeNumpy) {
  // np.quantile([1, 2, 3, 4], [0, 0.25, 0.5, 1]) = [1, 1.75, 2.5, 4]
  const std::vector<double> v{1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0), 1);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 1), 4);
  // np.quantile([1, 2, 3, 4, 5], 0.975) = 4.9; one value: that value.
  EXPECT_NEAR(quantile_sorted({1, 2, 3, 4, 5}, 0.975), 4.9, 1e-12);
  EXPECT_DOUBLE_EQ(quantile_sorted({7}, 0.025), 7);
  EXPECT_TRUE(std::isnan(quantile_sorted({}, 0.5)));
}

TEST(CorrelationMatrix, IdenticalMonotoneAndReversed) {
  const int M = 8;  // 28 pairs
  auto base = generate(M, {0.3}, 1)[0];
  const std::vector<std::vector<double>> mats{base, base,
                                              map(base, [](double v) { return std::exp(3 * v); }),
                                              map(base, [](double v) { return -v; })};
  BootstrapOptions opt;
  opt.resamples = 0;
  const auto c = correlation_matrix(mats, M, Method::Spearman, opt);
  ASSERT_EQ(c.K, 4);
  ASSERT_EQ(c.r.size(), 16u);
  EXPECT_NEAR(c.r[0 * 4 + 1], 1.0, 1e-12);
  EXPECT_LT(c.p[0 * 4 + 1], 1e-6);
  EXPECT_NEAR(c.r[0 * 4 + 2], 1.0, 1e-12);   // monotone transform
  EXPECT_NEAR(c.r[0 * 4 + 3], -1.0, 1e-12);  // reversed
  EXPECT_NEAR(c.r[3 * 4 + 2], -1.0, 1e-12);  // symmetric matrix
  EXPECT_EQ(c.n[0 * 4 + 3], 28);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(c.r[k * 4 + k], 1.0);
    EXPECT_EQ(c.p[k * 4 + k], 0.0);
    EXPECT_EQ(c.n[k * 4 + k], 28);
  }
  for (std::size_t e = 0; e < 16; ++e) {
    EXPECT_TRUE(std::isnan(c.ci_low[e]));
    EXPECT_TRUE(std::isnan(c.ci_high[e]));
  }
  // Pearson sees the exp transform as not linear.
  const auto p = correlation_matrix(mats, M, Method::Pearson, opt);
  EXPECT_NEAR(p.r[0 * 4 + 1], 1.0, 1e-12);
  EXPECT_LT(p.r[0 * 4 + 2], 0.999);
}

TEST(CorrelationMatrix, SpearmanByHandWithTies) {
  // Upper triangles (pairs 01 02 03 12 13 23):
  //   a = (0.5, 0.7, 0.7, 0.2, 0.9, 0.4) -> ranks (3, 4.5, 4.5, 1, 6, 2)
  //   b = (0.1, 0.3, 0.2, 0.6, 0.5, 0.3) -> ranks (1, 3.5, 2, 6, 5, 3.5)
  // Centred (mean 3.5): a (-0.5, 1, 1, -2.5, 2.5, -1.5), b (-2.5, 0, -1.5, 2.5, 1.5, 0)
  // sxy = 1.25 + 0 - 1.5 - 6.25 + 3.75 + 0 = -2.75; sxx = syy = 17
  // rho = -2.75 / 17 = -0.16176470588235295
  const auto a = symmetric(4, {0.5, 0.7, 0.7, 0.2, 0.9, 0.4});
  const auto b = symmetric(4, {0.1, 0.3, 0.2, 0.6, 0.5, 0.3});
  BootstrapOptions opt;
  opt.resamples = 0;
  const auto c = correlation_matrix({a, b}, 4, Method::Spearman, opt);
  EXPECT_NEAR(c.r[1], -2.75 / 17, 1e-15);
  EXPECT_NEAR(c.r[2], -2.75 / 17, 1e-15);
  EXPECT_EQ(c.n[1], 6);
  EXPECT_DOUBLE_EQ(c.p[1],
                   correlate(upper_triangle(a, 4), upper_triangle(b, 4), Method::Spearman).p);
}

TEST(CorrelationMatrix, ConstantConfigurationIsNaN) {
  const int M = 6;
  auto mats = generate(M, {0.2, 0.2}, 2);
  mats.push_back(symmetric(M, std::vector<double>(15, 1.0)));  // e.g. mutual_knn at k = N-1
  BootstrapOptions opt;
  opt.resamples = 50;
  const auto c = correlation_matrix(mats, M, Method::Spearman, opt);
  for (int k = 0; k < 3; ++k) {
    for (double v : {c.r[2 * 3 + k], c.r[k * 3 + 2], c.p[2 * 3 + k], c.ci_low[2 * 3 + k],
                     c.ci_high[k * 3 + 2]})
      EXPECT_TRUE(std::isnan(v)) << k;
  }
  EXPECT_EQ(c.n[2 * 3 + 0], 15);
  EXPECT_FALSE(std::isnan(c.r[0 * 3 + 1]));
  EXPECT_EQ(c.ci_low[0], 1.0);  // defined diagonal: [1, 1]
  EXPECT_EQ(c.ci_high[0], 1.0);
}

TEST(CorrelationMatrix, NaNEntriesUseFiniteSubset) {
  const int M = 7;  // 21 pairs
  auto mats = generate(M, {0.3, 0.6}, 3);
  mats[1][0 * M + 3] = mats[1][3 * M + 0] = kNaN;
  mats[1][2 * M + 5] = mats[1][5 * M + 2] = kNaN;
  mats[0][4 * M + 6] = mats[0][6 * M + 4] = kNaN;
  for (auto method : {Method::Spearman, Method::Pearson, Method::Kendall}) {
    BootstrapOptions opt;
    opt.resamples = 0;
    const auto c = correlation_matrix(mats, M, method, opt);
    std::vector<double> x, y;
    const auto ux = upper_triangle(mats[0], M), uy = upper_triangle(mats[1], M);
    for (std::size_t t = 0; t < ux.size(); ++t)
      if (!std::isnan(ux[t]) && !std::isnan(uy[t])) {
        x.push_back(ux[t]);
        y.push_back(uy[t]);
      }
    ASSERT_EQ(x.size(), 18u);
    const auto want = correlate(x, y, method);
    EXPECT_EQ(c.n[1], 18);
    EXPECT_EQ(c.n[0], 20);
    EXPECT_EQ(c.n[3], 19);
    EXPECT_DOUBLE_EQ(c.r[1], want.r);
    EXPECT_DOUBLE_EQ(c.p[1], want.p);
  }
}

TEST(CorrelationMatrix, BadInput) {
  BootstrapOptions opt;
  EXPECT_THROW(correlation_matrix({{1, 2, 3, 4}, {1, 2, 3}}, 2, Method::Spearman, opt),
               prh::InputError);
  opt.resamples = -1;
  EXPECT_THROW(correlation_matrix({{1, 2, 3, 4}}, 2, Method::Spearman, opt), prh::InputError);
  opt.resamples = 10;
  opt.confidence = 1;
  EXPECT_THROW(correlation_matrix({{1, 2, 3, 4}}, 2, Method::Spearman, opt), prh::InputError);
}

TEST(ResampleModels, InRangeAndRoughlyUniform) {
  std::mt19937_64 rng(42);
  const int M = 5;
  std::vector<int> count(M, 0);
  double sum = 0;
  for (int r = 0; r < 400; ++r) {  // 2000 draws
    const auto d = resample_models(rng, M);
    ASSERT_EQ(d.size(), static_cast<std::size_t>(M));
    for (int i : d) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, M);
      ++count[i];
      sum += i;
    }
  }
  for (int i = 0; i < M; ++i) EXPECT_GT(count[i], 0) << i;
  EXPECT_NEAR(sum / 2000, (M - 1) / 2.0, 0.1);
  std::mt19937_64 one(1);
  EXPECT_EQ(resample_models(one, 1), std::vector<int>{0});
  EXPECT_TRUE(resample_models(one, 0).empty());
}

TEST(ResampleModels, RawOutputModuloM) {
  // M a power of two: no raw value is ever rejected, so index = raw % M.
  std::mt19937_64 rng(7), ref(7);
  for (int r = 0; r < 50; ++r)
    for (int i : resample_models(rng, 8)) EXPECT_EQ(static_cast<std::uint64_t>(i), ref() % 8);
  // Otherwise rejection is astronomically rare: still raw % M here.
  std::mt19937_64 rng17(3), ref17(3);
  for (int i : resample_models(rng17, 17)) EXPECT_EQ(static_cast<std::uint64_t>(i), ref17() % 17);
}

TEST(ResampleModels, PairVectorRule) {
  // s[i][j] = 10 i + j (not symmetric: shows which entry is taken).
  std::vector<double> s(16);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) s[i * 4 + j] = 10 * i + j;
  // drawn (2, 0, 2, 3): pairs (a, b) = (0,1): models 2,0 -> s[0][2]; (0,2): 2,2 dropped;
  // (0,3): 2,3 -> s[2][3]; (1,2): 0,2 -> s[0][2]; (1,3): 0,3 -> s[0][3]; (2,3): 2,3 -> s[2][3]
  EXPECT_EQ(resampled_upper_triangle(s, 4, {2, 0, 2, 3}), (std::vector<double>{2, 23, 2, 3, 23}));
  EXPECT_EQ(resampled_upper_triangle(s, 4, {0, 1, 2, 3}), upper_triangle(s, 4));
  EXPECT_TRUE(resampled_upper_triangle(s, 4, {1, 1, 1, 1}).empty());
  EXPECT_THROW(resampled_upper_triangle(s, 4, {0, 1, 2, 4}), prh::InputError);
}

TEST(BootstrapCI, OneResampleIsCorrelateOfTheResampledVectors) {
  // With one resample the interval is that resample's r*: it must equal
  // correlate_finite of the resampled pair vectors, on every path: no NaN,
  // NaN at the same positions in every configuration (a missing model), NaN at
  // different positions.
  const int M = 10;
  auto clean = generate(M, {0.2, 0.5, 1.0}, 4);
  for (auto& v : clean[2]) v = std::round(v * 2) / 2;  // ties
  auto missing = clean;
  for (auto& s : missing)
    for (int j = 0; j < M; ++j) s[3 * M + j] = s[j * M + 3] = kNaN;
  auto scattered = missing;
  scattered[1][1 * M + 4] = scattered[1][4 * M + 1] = kNaN;
  scattered[1][6 * M + 7] = scattered[1][7 * M + 6] = kNaN;
  for (const auto* mats : {&clean, &missing, &scattered})
    for (auto method : {Method::Spearman, Method::Pearson, Method::Kendall})
      for (std::uint64_t seed = 0; seed < 20; ++seed) {
        BootstrapOptions opt;
        opt.resamples = 1;
        opt.seed = seed;
        const auto c = correlation_matrix(*mats, M, method, opt);
        std::mt19937_64 rng(seed);
        const auto drawn = resample_models(rng, M);
        for (int a = 0; a < 3; ++a)
          for (int b = a + 1; b < 3; ++b) {
            const double want =
                correlate_finite(resampled_upper_triangle((*mats)[a], M, drawn),
                                 resampled_upper_triangle((*mats)[b], M, drawn), method)
                    .r;
            if (std::isnan(want)) {
              EXPECT_TRUE(std::isnan(c.ci_low[a * 3 + b]));
              continue;
            }
            EXPECT_NEAR(c.ci_low[a * 3 + b], want, 1e-12)
                << method_name(method) << " seed " << seed << " pair " << a << b;
            EXPECT_NEAR(c.ci_high[b * 3 + a], want, 1e-12);
          }
      }
}

TEST(BootstrapCI, Deterministic) {
  const int M = 12;
  const auto mats = generate(M, {0.3, 0.6, 1.0}, 5);
  BootstrapOptions opt;
  opt.resamples = 200;
  opt.seed = 11;
  const auto a = correlation_matrix(mats, M, Method::Spearman, opt);
  const auto b = correlation_matrix(mats, M, Method::Spearman, opt);
  EXPECT_TRUE(same_bits(a.ci_low, b.ci_low));
  EXPECT_TRUE(same_bits(a.ci_high, b.ci_high));
  EXPECT_FALSE(std::isnan(a.ci_low[1]));
  opt.seed = 12;
  const auto c = correlation_matrix(mats, M, Method::Spearman, opt);
  EXPECT_TRUE(same_bits(a.r, c.r));
  EXPECT_FALSE(same_bits(a.ci_low, c.ci_low));
  EXPECT_FALSE(same_bits(a.ci_high, c.ci_high));
}

TEST(BootstrapCI, ContainsStrongCorrelation) {
  const int M = 15;
  const auto mats = generate(M, {0.1, 0.1}, 6);
  BootstrapOptions opt;
  opt.seed = 1;
  const auto c = correlation_matrix(mats, M, Method::Spearman, opt);
  EXPECT_GT(c.r[1], 0.9);
  EXPECT_LE(c.ci_low[1], c.r[1]);
  EXPECT_GE(c.ci_high[1], c.r[1]);
  EXPECT_LT(c.ci_low[1], c.ci_high[1]);
  EXPECT_LE(c.ci_high[1], 1.0);
}

TEST(BootstrapCI, NarrowsWithMoreModels) {
  BootstrapOptions opt;
  opt.seed = 3;
  const auto small = correlation_matrix(generate(6, {0.5, 0.5}, 7), 6, Method::Spearman, opt);
  const auto large = correlation_matrix(generate(30, {0.5, 0.5}, 7), 30, Method::Spearman, opt);
  const double w6 = small.ci_high[1] - small.ci_low[1];
  const double w30 = large.ci_high[1] - large.ci_low[1];
  ASSERT_FALSE(std::isnan(w6));
  ASSERT_FALSE(std::isnan(w30));
  EXPECT_LT(w30, w6);
}

TEST(BootstrapCI, NoResamplesNoIntervals) {
  BootstrapOptions opt;
  opt.resamples = 0;
  const auto c = correlation_matrix(generate(8, {0.2, 0.4}, 8), 8, Method::Spearman, opt);
  for (std::size_t e = 0; e < 4; ++e) {
    EXPECT_TRUE(std::isnan(c.ci_low[e]));
    EXPECT_TRUE(std::isnan(c.ci_high[e]));
  }
  EXPECT_FALSE(std::isnan(c.r[1]));
}

TEST(CompareCorrelations, SameSetTwice) {
  const int M = 10;
  const auto mats = generate(M, {0.3, 0.6, 1.0}, 9);
  BootstrapOptions opt;
  opt.resamples = 300;
  const auto d = compare_correlations(mats, mats, M, Method::Spearman, opt);
  ASSERT_EQ(d.K, 3);
  for (std::size_t e = 0; e < 9; ++e) {
    EXPECT_EQ(d.diff[e], 0.0) << e;
    EXPECT_EQ(d.p[e], 1.0) << e;
    EXPECT_EQ(d.ci_low[e], 0.0) << e;
    EXPECT_EQ(d.ci_high[e], 0.0) << e;
  }
}

TEST(CompareCorrelations, NoiseConfigurationDiffers) {
  const int M = 20;
  const auto set1 = generate(M, {0.2, 0.2, 0.2}, 10);
  auto set2 = set1;
  Gauss g(99);
  std::vector<double> noise;
  for (int t = 0; t < M * (M - 1) / 2; ++t) noise.push_back(g());
  set2[2] = symmetric(M, noise);
  BootstrapOptions opt;
  opt.seed = 5;
  const auto d = compare_correlations(set1, set2, M, Method::Spearman, opt);
  BootstrapOptions none;
  none.resamples = 0;
  const auto r1 = correlation_matrix(set1, M, Method::Spearman, none);
  const auto r2 = correlation_matrix(set2, M, Method::Spearman, none);
  for (int a : {0, 1}) {
    const int e = a * 3 + 2;
    EXPECT_DOUBLE_EQ(d.diff[e], r1.r[e] - r2.r[e]);
    EXPECT_GT(d.diff[e], 0.5);
    EXPECT_LT(d.p[e], 0.05);
    EXPECT_GT(d.ci_low[e], 0.0);
    EXPECT_LE(d.ci_low[e], d.diff[e]);
    EXPECT_GE(d.ci_high[e], d.diff[e]);
    EXPECT_EQ(d.p[e], d.p[2 * 3 + a]);
  }
  EXPECT_EQ(d.diff[0 * 3 + 1], 0.0);  // the two unchanged configurations
  EXPECT_EQ(d.p[0 * 3 + 1], 1.0);

  const auto nob = compare_correlations(set1, set2, M, Method::Spearman, none);
  EXPECT_DOUBLE_EQ(nob.diff[2], d.diff[2]);
  for (std::size_t e = 0; e < 9; ++e) {
    EXPECT_TRUE(std::isnan(nob.p[e]));
    EXPECT_TRUE(std::isnan(nob.ci_low[e]));
  }
  EXPECT_THROW(compare_correlations(set1, {set1[0]}, M, Method::Spearman, opt), prh::InputError);
}

TEST(CompareCorrelations, NaNWhereUndefined) {
  const int M = 6;
  auto set1 = generate(M, {0.2, 0.2}, 12);
  auto set2 = set1;
  set2[1] = symmetric(M, std::vector<double>(15, 0.5));  // constant on the second set
  BootstrapOptions opt;
  opt.resamples = 100;
  const auto d = compare_correlations(set1, set2, M, Method::Spearman, opt);
  EXPECT_TRUE(std::isnan(d.diff[1]));
  EXPECT_TRUE(std::isnan(d.p[1]));
  EXPECT_TRUE(std::isnan(d.ci_low[1]));
  EXPECT_TRUE(std::isnan(d.diff[3]));  // diagonal of the undefined configuration
  EXPECT_TRUE(std::isnan(d.p[3]));
  EXPECT_EQ(d.diff[0], 0.0);
  EXPECT_EQ(d.p[0], 1.0);
}

TEST(PercentilePvalue, DualOfThePercentileInterval) {
  EXPECT_TRUE(std::isnan(percentile_pvalue({})));
  EXPECT_EQ(percentile_pvalue({0.0}), 1.0);
  EXPECT_EQ(percentile_pvalue({0.5}), 0.0);
  EXPECT_EQ(percentile_pvalue({1, 2, 3}), 0.0);       // all on one side
  EXPECT_EQ(percentile_pvalue({0, 0, 0}), 1.0);       // all at 0
  EXPECT_DOUBLE_EQ(percentile_pvalue({-1, 1}), 1.0);  // Q(1/2) = 0
  // -3 -1 1 5 9: Q(q) = 0 at h = 1.5, q = 1.5 / 4; p = 2 * 0.375.
  EXPECT_DOUBLE_EQ(percentile_pvalue({-3, -1, 1, 5, 9}), 0.75);
  // For every confidence, the interval excludes 0 exactly when p < 1 - c.
  Gauss g(3);
  for (int rep = 0; rep < 200; ++rep) {
    std::vector<double> v;
    const double shift = 0.02 * rep - 2;
    for (int t = 0; t < 101; ++t) v.push_back(shift + std::exp(g()));  // skewed
    std::sort(v.begin(), v.end());
    const double p = percentile_pvalue(v);
    for (double c : {0.5, 0.8, 0.9, 0.95, 0.99}) {
      auto w = v;
      double low, high;
      percentile_interval(w, 101, c, low, high);
      EXPECT_EQ(low > 0 || high < 0, p < 1 - c) << rep << " " << c << " " << p;
    }
  }
}

TEST(CompareCorrelations, IntervalAndPvalueAgreeOnEveryEntry) {
  // Skewed, noisy differences: configurations of different noise on two sets
  // whose second has extra noise in some configurations.
  int excluded = 0, total = 0;
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    const int M = 15;
    const auto set1 = generate(M, {0.1, 0.5, 1.0, 2.0, 0.3}, 20 + seed);
    auto set2 = generate(M, {0.1, 0.5, 1.0, 2.0, 0.3}, 20 + seed);
    Gauss g(40 + seed);
    for (int c : {2, 4}) {
      for (int i = 0; i < M; ++i)
        for (int j = i + 1; j < M; ++j) {
          const double x = g();
          set2[c][i * M + j] += x;
          set2[c][j * M + i] += x;
        }
    }
    BootstrapOptions opt;
    opt.resamples = 400;
    opt.seed = seed;
    for (double c : {0.9, 0.95}) {
      opt.confidence = c;
      const auto d = compare_correlations(set1, set2, M, Method::Spearman, opt);
      for (std::size_t e = 0; e < d.diff.size(); ++e) {
        ASSERT_FALSE(std::isnan(d.p[e]));
        const bool out = d.ci_low[e] > 0 || d.ci_high[e] < 0;
        EXPECT_EQ(out, d.p[e] < 1 - c)
            << e << " [" << d.ci_low[e] << ", " << d.ci_high[e] << "] p " << d.p[e];
        excluded += out;
        ++total;
      }
    }
  }
  EXPECT_GT(excluded, 0);  // both kinds of entry occur
  EXPECT_LT(excluded, total);
}

TEST(CorrelationMatrix, IntervalAndItsPvalueAgree) {
  int excluded = 0, total = 0;
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    const int M = 12;
    const auto mats = generate(M, {0.2, 1.0, 3.0, 6.0}, 60 + seed);
    BootstrapOptions opt;
    opt.resamples = 300;
    opt.seed = seed;
    const auto c = correlation_matrix(mats, M, Method::Spearman, opt);
    for (std::size_t e = 0; e < c.r.size(); ++e) {
      if (e % 5 == 0) continue;  // the diagonal: [1, 1], p 0
      ASSERT_FALSE(std::isnan(c.ci_p[e]));
      const bool out = c.ci_low[e] > 0 || c.ci_high[e] < 0;
      EXPECT_EQ(out, c.ci_p[e] < 0.05) << e;
      excluded += out;
      ++total;
    }
  }
  EXPECT_GT(excluded, 0);
  EXPECT_LT(excluded, total);
}
