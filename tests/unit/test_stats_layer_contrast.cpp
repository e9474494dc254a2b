// The early-minus-late contrast of the layer profile (stats/layer_contrast.hpp):
// the statistic by hand, its bookkeeping, and a simulation of the test's
// error rates: the null true in the ways our data can make it (models that
// differ in overall alignment; pairs sharing models; model-specific depth
// effects) and a planted effect.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/stats/distributions.hpp"
#include "prh/stats/layer_contrast.hpp"
#include "prh/stats/sweep.hpp"

using namespace prh::stats;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> matrix(int M, double diag_value, double (*f)(int, int)) {
  std::vector<double> s(static_cast<std::size_t>(M * M));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j)
      s[static_cast<std::size_t>(i * M + j)] = i == j ? diag_value : f(i, j);
  return s;
}

}  // namespace

TEST(LayerContrast, StatisticIsTheDifferenceOfTheProfileMeans) {
  const int M = 4;
  DepthContrastInput in;
  in.M = M;
  auto e0 = matrix(M, 1, [](int i, int j) { return 0.1 * (i + j); });
  auto l0 = matrix(M, 1, [](int i, int j) { return 0.05 * (i + j) + 0.01 * i; });
  auto e1 = matrix(M, 1, [](int i, int j) { return 0.2 + 0.01 * i * j; });
  auto l1 = matrix(M, 1, [](int, int j) { return 0.3 - 0.02 * j; });
  l1[1] = kNaN;  // a missing pair counts in neither mean
  in.early = {{e0}, {e1}};
  in.late = {{l0}, {l1}};
  const auto r = depth_contrast(in, 0.95);
  ASSERT_EQ(r.S, 2);
  ASSERT_EQ(r.K, 1);
  const double d0 = mean_offdiagonal(e0, M) - mean_offdiagonal(l0, M);
  const double d1 = mean_offdiagonal(e1, M) - mean_offdiagonal(l1, M);
  EXPECT_DOUBLE_EQ(r.diff[0], d0);
  EXPECT_DOUBLE_EQ(r.diff[1], d1);
  EXPECT_DOUBLE_EQ(r.change[0], 0.0);
  EXPECT_DOUBLE_EQ(r.change[1], d1 - d0);

  in.reference = 1;
  EXPECT_DOUBLE_EQ(depth_contrast(in, 0.95).change[0], d0 - d1);
}

// When the difference is a mean of per-model effects (late s_ij = c_i + c_j,
// early 0, no pair noise), theta = -2 mean(c) and the jackknife is the
// one-sample t test of the c: se = 2 sd(c) / sqrt(n).
TEST(LayerContrast, JackknifeIsTheTTestOfModelEffects) {
  const std::vector<double> cv{0.3, -0.1, 0.25, 0.05, 0.4, -0.2, 0.15};
  const int M = static_cast<int>(cv.size());
  DepthContrastInput in;
  in.M = M;
  std::vector<double> late(static_cast<std::size_t>(M * M), kNaN), early = late;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j)
      if (i != j) {
        late[static_cast<std::size_t>(i * M + j)] =
            cv[static_cast<std::size_t>(i)] + cv[static_cast<std::size_t>(j)];
        early[static_cast<std::size_t>(i * M + j)] = 0;
      }
  in.early = {{early}};
  in.late = {{late}};
  const auto r = depth_contrast(in, 0.9);
  double mean = 0, ss = 0;
  for (double x : cv) mean += x / M;
  for (double x : cv) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / (M - 1)), se = 2 * sd / std::sqrt(M);
  EXPECT_NEAR(r.diff[0], -2 * mean, 1e-12);
  EXPECT_NEAR(r.diff_p[0], 2 * student_t_sf(2 * std::fabs(mean) / se, M - 1), 1e-10);
  // t_6 at 0.95: 1.943180281
  EXPECT_NEAR(r.diff_high[0] - r.diff[0], 1.943180281 * se, 1e-8);
  EXPECT_NEAR(r.diff[0] - r.diff_low[0], 1.943180281 * se, 1e-8);
  // fewer than 3 models: no interval
  DepthContrastInput two;
  two.M = 2;
  two.early = {{{kNaN, 0.5, 0.5, kNaN}}};
  two.late = {{{kNaN, 0.2, 0.2, kNaN}}};
  const auto t = depth_contrast(two, 0.95);
  EXPECT_DOUBLE_EQ(t.diff[0], 0.3);
  EXPECT_TRUE(std::isnan(t.diff_low[0]) && std::isnan(t.diff_p[0]));
}

TEST(LayerContrast, IntervalAndPOneConstruction) {
  const int M = 10;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> n(0, 1);
  DepthContrastInput in;
  in.M = M;
  in.early.assign(2, std::vector<std::vector<double>>(2));
  in.late = in.early;
  for (auto* v : {&in.early, &in.late})
    for (auto& set : *v)
      for (auto& m : set) {
        m.resize(static_cast<std::size_t>(M * M));
        for (auto& x : m) x = n(rng);
      }
  const auto r = depth_contrast(in, 0.95);
  const auto again = depth_contrast(in, 0.95);
  for (std::size_t t = 0; t < 4; ++t) {
    EXPECT_EQ(r.diff_low[t], again.diff_low[t]);  // deterministic
    EXPECT_LE(r.diff_low[t], r.diff_high[t]);
    EXPECT_GE(r.diff_p[t], 0.0);
    EXPECT_LE(r.diff_p[t], 1.0);
  }
  // The reference's own change is 0 without any model.
  EXPECT_EQ(r.change_low[0], 0.0);
  EXPECT_EQ(r.change_high[0], 0.0);
  EXPECT_EQ(r.change_p[0], 1.0);
  // Duality: the interval at confidence c excludes 0 exactly when p < 1 - c,
  // checked at the confidence that p itself gives, from both sides.
  for (std::size_t t = 2; t < 4; ++t) {
    const double p = r.change_p[t];
    ASSERT_GT(p, 0.02);
    ASSERT_LT(p, 0.98);
    for (double c : {1 - p - 0.01, 1 - p + 0.01}) {
      const auto q = depth_contrast(in, c);
      const bool excludes = q.change_low[t] > 0 || q.change_high[t] < 0;
      EXPECT_EQ(excludes, p < 1 - c) << "t " << t << " c " << c << " p " << p;
    }
  }
}

TEST(LayerContrast, Errors) {
  DepthContrastInput in;
  in.M = 2;
  in.early = {{std::vector<double>(4, 0.0)}};
  in.late = {{std::vector<double>(3, 0.0)}};
  EXPECT_THROW(depth_contrast(in, 0.95), prh::InputError);
  in.late = {{std::vector<double>(4, 0.0)}};
  EXPECT_THROW(depth_contrast(in, 1.0), prh::InputError);
  in.reference = 1;
  EXPECT_THROW(depth_contrast(in, 0.95), prh::InputError);
  in.reference = 0;
  in.late.push_back(in.late[0]);
  EXPECT_THROW(depth_contrast(in, 0.95), prh::InputError);
}

// The simulation. Two sets (0 = id, the reference; 1 = the shifted set), one
// configuration, M models, symmetric scores at the early and the late depth:
//
//   s_ij(set, depth) = mu(set) + a_i(set) + a_j(set)
//                      + [late] (b_i + b_j + c_i(set) + c_j(set) - delta [set 1])
//                      + e_ij(set, depth)
//
// a: each model's overall alignment (sd 0.1; set 1's a_i = 0.5 a_i(id) +
// its own part: models differ, and differ differently per set, but the same
// at every depth); e: pair noise (sd 0.05), independent per set and depth;
// b: model-specific depth effects (shared by both sets), c: each set's own
// model-specific depth effects; both of population mean 0 (the sample of
// models has a nonzero early-minus-late mean that the next sample would not).
// The null of diff(set 1) and change(set 1) holds when delta = 0.
struct Scenario {
  int M = 21;
  double sd_b = 0;   // 0: the null of the brief (the same at every depth)
  double sd_c = 0;   // each set's own model depth effects (c_i(set)), mean 0
  double delta = 0;  // the planted effect: late alignment lost on set 1
};

struct Rates {
  double diff = 0, change = 0, naive_pairs_diff = 0;
};

Rates simulate(const Scenario& sc, int reps, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  const int M = sc.M;
  const auto mm = static_cast<std::size_t>(M * M);
  int rd = 0, rc = 0, rn = 0;
  for (int rep = 0; rep < reps; ++rep) {
    std::vector<double> a0(static_cast<std::size_t>(M)), a1 = a0, b = a0, c0 = a0, c1 = a0;
    for (int i = 0; i < M; ++i) {
      const auto I = static_cast<std::size_t>(i);
      a0[I] = 0.1 * n(rng);
      a1[I] = 0.5 * a0[I] + 0.08 * n(rng);
      b[I] = sc.sd_b * n(rng);
      c0[I] = sc.sd_c * n(rng);
      c1[I] = sc.sd_c * n(rng);
    }
    DepthContrastInput in;
    in.M = M;
    in.early.assign(2, std::vector<std::vector<double>>(1, std::vector<double>(mm, kNaN)));
    in.late = in.early;
    for (int s = 0; s < 2; ++s) {
      const auto& a = s == 0 ? a0 : a1;
      const auto& c = s == 0 ? c0 : c1;
      const double mu = s == 0 ? 0.5 : 0.3;
      for (int i = 0; i < M; ++i)
        for (int j = i + 1; j < M; ++j) {
          const auto I = static_cast<std::size_t>(i), J = static_cast<std::size_t>(j);
          const double base = mu + a[I] + a[J];
          const double e = base + 0.05 * n(rng);
          const double l =
              base + b[I] + b[J] + c[I] + c[J] - (s == 1 ? sc.delta : 0) + 0.05 * n(rng);
          in.early[static_cast<std::size_t>(s)][0][I * M + J] =
              in.early[static_cast<std::size_t>(s)][0][J * M + I] = e;
          in.late[static_cast<std::size_t>(s)][0][I * M + J] =
              in.late[static_cast<std::size_t>(s)][0][J * M + I] = l;
        }
    }
    const auto r = depth_contrast(in, 0.95);
    if (r.diff_p[1] < 0.05) ++rd;
    if (r.change_p[1] < 0.05) ++rc;
    // What treating the M(M-1)/2 pairs as independent would say (the wrong
    // unit): a z test of the mean pair difference.
    double sum = 0, sq = 0;
    int P = 0;
    for (int i = 0; i < M; ++i)
      for (int j = i + 1; j < M; ++j) {
        const auto t = static_cast<std::size_t>(i * M + j);
        const double d = in.early[1][0][t] - in.late[1][0][t];
        sum += d, sq += d * d, ++P;
      }
    const double mean = sum / P, sd = std::sqrt((sq - P * mean * mean) / (P - 1));
    if (std::fabs(mean) / (sd / std::sqrt(P)) > 1.959964) ++rn;
  }
  return {static_cast<double>(rd) / reps, static_cast<double>(rc) / reps,
          static_cast<double>(rn) / reps};
}

// Type-I error at 0.05 (400 data sets; Monte Carlo standard error about
// 0.011 at a true rate of 0.05) and power. The numbers
// are printed for docs/results.md.
TEST(LayerContrast, SimulationHoldsTheLevelAndDetectsAPlantedEffect) {
  // PRH_LAYER_SIM_REPS: more data sets for a closer look (the bounds below
  // are for 400).
  const char* env = std::getenv("PRH_LAYER_SIM_REPS");
  const int reps = env ? std::atoi(env) : 400;
  Scenario null_a;  // the same at every depth
  Scenario null_b;  // model-specific depth effects, mean 0
  null_b.sd_b = 0.03;
  Scenario null_small = null_b;  // few models
  null_small.M = 8;
  Scenario null_c;  // each set's own model depth effects
  null_c.sd_c = 0.05;
  Scenario null_c_small = null_c;
  null_c_small.M = 8;
  Scenario power_a = null_a;
  power_a.delta = 0.03;
  Scenario power_b = null_b;
  power_b.delta = 0.06;
  const auto na = simulate(null_a, reps, 1);
  const auto nb = simulate(null_b, reps, 2);
  const auto ns = simulate(null_small, reps, 3);
  const auto nc = simulate(null_c, reps, 6);
  const auto ncs = simulate(null_c_small, reps, 7);
  const auto pa = simulate(power_a, reps, 4);
  const auto pb = simulate(power_b, reps, 5);
  const auto show = [](const char* name, const Rates& r) {
    std::printf(
        "[layer contrast simulation] %-48s diff %.3f  change %.3f  (pairs as units: %.3f)\n", name,
        r.diff, r.change, r.naive_pairs_diff);
  };
  show("null, same at every depth, M=21", na);
  show("null, model depth effects sd 0.03, M=21", nb);
  show("null, model depth effects sd 0.03, M=8", ns);
  show("null, per-set model depth effects sd 0.05, M=21", nc);
  show("null, per-set model depth effects sd 0.05, M=8", ncs);
  show("planted delta 0.03, same at every depth, M=21", pa);
  show("planted delta 0.06, model depth effects, M=21", pb);
  // Level: at most 0.05 plus three Monte Carlo standard errors.
  for (const auto* r : {&na, &nb, &ns, &nc, &ncs}) {
    EXPECT_LE(r->diff, 0.083);
    EXPECT_LE(r->change, 0.083);
  }
  // The wrong unit: with model depth effects, pairs as independent units
  // reject far too often.
  EXPECT_GT(nb.naive_pairs_diff, 0.2);
  // Power.
  EXPECT_GE(pa.diff, 0.8);
  EXPECT_GE(pa.change, 0.5);
  EXPECT_GE(pb.diff, 0.5);
  EXPECT_GE(pb.change, 0.8);
}
