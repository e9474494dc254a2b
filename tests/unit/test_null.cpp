// Fast permutation nulls (metrics/null.hpp) against the slow path: the
// permuted raw features through prh compare's code (make_representations,
// score_layer_pair, compare_models).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

#include "prh/core/error.hpp"
#include "prh/metrics/null.hpp"
#include "prh/stats/calibration.hpp"
#include "prh/stats/cross_metric.hpp"
#include "prh/stats/mantel.hpp"
#include "prh/stats/permutation.hpp"
#include "prh/stats/sweep.hpp"
#include "stats_ks.hpp"

using namespace prh::metrics;

namespace {

MatrixF gaussian(std::mt19937_64& rng, Index n, Index d) {
  std::normal_distribution<float> g;
  MatrixF x(n, d);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j) x(i, j) = g(rng);
  return x;
}

MatrixF permute_rows(const MatrixF& x, const Permutation& perm) {
  MatrixF out(x.rows(), x.cols());
  for (std::size_t i = 0; i < perm.size(); ++i) out.row(static_cast<Index>(i)) = x.row(perm[i]);
  return out;
}

std::vector<MetricSpec> specs_of(const std::vector<std::string>& names) {
  std::vector<MetricSpec> out;
  for (const auto& n : names) out.push_back(parse_metric(n));
  return out;
}

const std::vector<std::string> kAll{"mutual_knn:k=5",
                                    "cycle_knn:k=5",
                                    "lcs_knn:k=5",
                                    "edit_distance_knn:k=5",
                                    "cknna:k=5",
                                    "mutual_knn:k=20",
                                    "cknna:k=20",
                                    "cycle_knn:k=20",
                                    "cka",
                                    "unbiased_cka",
                                    "svcca:cca_dim=4",
                                    "lcs_knn:k=20",
                                    "edit_distance_knn:k=20"};

// Rounding allowed between the fast and the slow null, per metric (see
// docs/calibration.md): the kNN metrics count integers from
// identical lists, so they are exact; the others divide by self terms that
// the slow path re-sums in another row order (float products summed in
// 256-row chunks), and SVCCA re-solves the eigenproblem of that Gram.
double tolerance(const MetricSpec& s) {
  switch (s.kind) {
    case MetricKind::MutualKnn:
    case MetricKind::CycleKnn:
    case MetricKind::LcsKnn:
    case MetricKind::EditDistanceKnn:
      return 0.0;
    case MetricKind::Cknna:
      return 1e-12;  // the cross term is exact; only the self terms are re-summed
    case MetricKind::Cka:
    case MetricKind::UnbiasedCka:
      return 1e-7;  // measured: up to 7e-9
    default:
      return 1e-6;  // svcca, measured: up to 3e-8
  }
}

}  // namespace

TEST(Null, RelabelledListsAreTheListsOfThePermutedFeatures) {
  std::mt19937_64 rng(1);
  const MatrixF raw = gaussian(rng, 200, 16);
  const auto specs = specs_of({"mutual_knn:k=20"});
  const auto b = make_representations({raw}, PreprocessOptions{}, specs, "B");
  for (std::uint64_t t = 0; t < 5; ++t) {
    const Permutation perm = prh::stats::seeded_permutation(9, t, 200);
    const auto fast = permute(b[0], perm);
    const auto slow =
        make_representations({permute_rows(raw, perm)}, PreprocessOptions{}, specs, "B'");
    EXPECT_EQ(fast.neighbors->index, slow[0].neighbors->index);
    EXPECT_EQ(fast.neighbors->sim, slow[0].neighbors->sim);
  }
}

TEST(Null, FastEqualsSlowPerLayerPairAndLayerMax) {
  std::mt19937_64 rng(2);
  const Index n = 150;
  const std::vector<MatrixF> raw_a{gaussian(rng, n, 12), gaussian(rng, n, 20)};
  // B is related to A (a noisy linear map of A's second layer) so the scores
  // are not all at chance, plus an unrelated layer.
  MatrixF b1 = raw_a[1] * gaussian(rng, 20, 16) + 0.5f * gaussian(rng, n, 16);
  const std::vector<MatrixF> raw_b{b1, gaussian(rng, n, 30)};
  const auto specs = specs_of(kAll);
  const auto a = make_representations(raw_a, PreprocessOptions{}, specs, "A");
  const auto b = make_representations(raw_b, PreprocessOptions{}, specs, "B");
  std::vector<double> worst(specs.size(), 0.0), worst_pair(specs.size(), 0.0);
  // Both orientations: (A, P B) and (B, P A), one PairNull each, reused over
  // the permutations (its scratch buffers must not leak between them).
  for (int orient = 0; orient < 2; ++orient) {
    const auto& x = orient == 0 ? a : b;
    const auto& y = orient == 0 ? b : a;
    const auto& raw_y = orient == 0 ? raw_b : raw_a;
    PairNull pair_null(x, y, specs);
    for (std::uint64_t t = 0; t < 6; ++t) {
      const Permutation perm = prh::stats::seeded_permutation(4, t, n);
      std::vector<MatrixF> raw_py;
      for (const auto& r : raw_y) raw_py.push_back(permute_rows(r, perm));
      const auto slow_y = make_representations(raw_py, PreprocessOptions{}, specs, "Y'");
      const auto fast_pairs = pair_null.layer_pairs(perm);
      ASSERT_EQ(fast_pairs.size(), x.size() * y.size());
      for (std::size_t l = 0; l < x.size(); ++l)
        for (std::size_t m = 0; m < y.size(); ++m) {
          const auto relabelled = score_layer_pair(x[l], permute(y[m], perm), specs);
          const auto slow = score_layer_pair(x[l], slow_y[m], specs);
          const auto& fast = fast_pairs[l * y.size() + m];
          for (std::size_t s = 0; s < specs.size(); ++s) {
            EXPECT_NEAR(relabelled[s], slow[s], tolerance(specs[s]))
                << specs[s].name() << " layers " << l << "," << m << " perm " << t;
            EXPECT_NEAR(fast[s], slow[s], tolerance(specs[s]))
                << specs[s].name() << " PairNull, orientation " << orient << ", layers " << l << ","
                << m << " perm " << t;
            worst[s] = std::max(worst[s], std::fabs(relabelled[s] - slow[s]));
            worst_pair[s] = std::max(worst_pair[s], std::fabs(fast[s] - slow[s]));
          }
        }
      const auto fast_max = pair_null.layer_max(perm);
      const auto once_max = null_layer_max(x, y, specs, perm);
      const auto slow_max = compare_models(x, slow_y, specs);
      for (std::size_t s = 0; s < specs.size(); ++s) {
        EXPECT_NEAR(fast_max[s], slow_max[s].score, tolerance(specs[s]))
            << specs[s].name() << " layer max, orientation " << orient << ", perm " << t;
        EXPECT_EQ(fast_max[s], once_max[s]) << specs[s].name();
      }
    }
  }
  for (std::size_t s = 0; s < specs.size(); ++s)
    std::printf("[ Null ] %-24s largest |fast - slow| = %.3g (relabelled) %.3g (PairNull)\n",
                specs[s].name().c_str(), worst[s], worst_pair[s]);
}

TEST(Null, PairNullOfTheIdentityIsTheObservedScore) {
  // Close neighbours, many of them reciprocal (the transpose term of cknna's
  // HSIC): clustered features, several k in one pass, lists longer than the
  // largest k, a configuration subset without cka (svcca alone).
  std::mt19937_64 rng(7);
  const Index n = 120;
  MatrixF centres = gaussian(rng, 6, 10) * 3.0f;
  MatrixF xa(n, 10), xb(n, 14);
  const MatrixF mix = gaussian(rng, 10, 14);
  for (Index i = 0; i < n; ++i) xa.row(i) = centres.row(i % 6);
  xa += 0.7f * gaussian(rng, n, 10);
  xb = xa * mix + 0.5f * gaussian(rng, n, 14);
  const auto specs = specs_of({"cknna:k=3", "mutual_knn:k=3", "cknna:k=11", "mutual_knn:k=11",
                               "cknna:k=30", "cycle_knn:k=7", "lcs_knn:k=4", "svcca:cca_dim=3"});
  const auto lists = specs_of({"mutual_knn:k=40", "svcca:cca_dim=3"});
  auto a = make_representations({xa}, PreprocessOptions{}, lists, "A");
  auto b = make_representations({xb}, PreprocessOptions{}, lists, "B");
  Permutation id(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) id[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
  const auto observed = compare_models(a, b, specs);
  PairNull pair_null(a, b, specs);
  const auto fast = pair_null.layer_max(id);
  for (std::size_t s = 0; s < specs.size(); ++s) {
    EXPECT_NEAR(fast[s], observed[s].score, tolerance(specs[s])) << specs[s].name();
    EXPECT_GT(observed[s].score, 0.2) << specs[s].name() << ": the case should be aligned";
  }
}

TEST(Null, IdenticalFeaturesGiveSmallestPAndCalibratedOne) {
  std::mt19937_64 rng(3);
  const Index n = 80;
  const auto specs =
      specs_of({"mutual_knn:k=5", "cknna:k=5", "cka", "unbiased_cka", "svcca:cca_dim=4"});
  const MatrixF raw = gaussian(rng, n, 10);
  const auto a = make_representations({raw}, PreprocessOptions{}, specs, "A");
  const auto observed = compare_models(a, a, specs);
  const int K = 99;
  std::vector<std::vector<double>> null(specs.size());
  for (int t = 0; t < K; ++t) {
    const auto v = null_layer_max(a, a, specs, prh::stats::seeded_permutation(1, t, n));
    for (std::size_t s = 0; s < specs.size(); ++s) null[s].push_back(v[s]);
  }
  for (std::size_t s = 0; s < specs.size(); ++s) {
    const auto c = prh::stats::calibrate(observed[s].score, null[s], 0.05);
    EXPECT_DOUBLE_EQ(c.pvalue, 1.0 / (K + 1)) << specs[s].name();
    // mutual_knn and svcca of identical features are exactly 1; the CKA
    // ratios (cka, unbiased_cka, cknna) add 1e-6 to their denominator
    // (metrics.md), so their self score, and hence the calibrated one, is
    // 1 - O(1e-6 / HSIC): measured down to 0.99994 for cknna at k = 5, N = 80.
    const bool ratio = specs[s].kind == MetricKind::Cka ||
                       specs[s].kind == MetricKind::UnbiasedCka ||
                       specs[s].kind == MetricKind::Cknna;
    if (ratio)
      EXPECT_NEAR(c.calibrated, 1.0, 1e-3) << specs[s].name();
    else
      EXPECT_DOUBLE_EQ(c.calibrated, 1.0) << specs[s].name();
  }
}

TEST(Null, UniformPValuesOnIndependentFeatures) {
  // Independent random features: p uniform (continuous cka, unbiased_cka)
  // or conservative (the discrete kNN scores tie), and about alpha of the
  // calibrated scores above 0.
  const Index n = 60;
  const int K = 49, runs = 200;
  const auto specs = specs_of({"cka", "unbiased_cka", "mutual_knn:k=5", "cknna:k=5"});
  std::vector<std::vector<double>> p(specs.size());
  std::vector<int> positive(specs.size(), 0);
  for (int r = 0; r < runs; ++r) {
    std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(r));
    const auto a = make_representations({gaussian(rng, n, 8)}, PreprocessOptions{}, specs, "A");
    const auto b = make_representations({gaussian(rng, n, 8)}, PreprocessOptions{}, specs, "B");
    const auto observed = compare_models(a, b, specs);
    std::vector<std::vector<double>> null(specs.size());
    for (int t = 0; t < K; ++t) {
      const auto v = null_layer_max(a, b, specs, prh::stats::seeded_permutation(r, t, n));
      for (std::size_t s = 0; s < specs.size(); ++s) null[s].push_back(v[s]);
    }
    for (std::size_t s = 0; s < specs.size(); ++s) {
      const auto c = prh::stats::calibrate(observed[s].score, null[s], 0.05);
      p[s].push_back(c.pvalue);
      positive[s] += c.calibrated > 0;
    }
  }
  const double bound = 1.63 / std::sqrt(runs) + 1.0 / (K + 1);
  for (std::size_t s = 0; s < specs.size(); ++s) {
    const bool continuous =
        specs[s].kind == MetricKind::Cka || specs[s].kind == MetricKind::UnbiasedCka;
    if (continuous)
      EXPECT_LT(prh::testing::ks_two_sided(p[s]), bound) << specs[s].name();
    else
      EXPECT_LT(prh::testing::ks_excess(p[s]), bound) << specs[s].name();
    EXPECT_LE(positive[s], runs * 0.05 + 3 * std::sqrt(runs * 0.05 * 0.95)) << specs[s].name();
  }
}

TEST(Null, Errors) {
  std::mt19937_64 rng(4);
  const auto specs = specs_of({"cka"});
  const auto a = make_representations({gaussian(rng, 20, 4)}, PreprocessOptions{}, specs, "A");
  EXPECT_THROW(null_layer_max(a, a, specs, {0, 1, 2}), prh::InputError);
  Permutation twice(20, 0);
  EXPECT_THROW(null_layer_max(a, a, specs, twice), prh::InputError);
  EXPECT_THROW(check_calibratable(specs_of({"cka:kernel=rbf"})), prh::InputError);
}

// --- Simulations (issue 23): the cross-metric test and the effect-size
// breaking level on data with a known answer. -------------------------------

namespace {

using namespace prh::stats;
using prh::metrics::MatrixF;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// One level of a simulated sweep: M models, N images; model m's features are
// share * s_m * Z W_m + E_m (Z: N x 4 shared by every model, W_m and E_m the
// model's own; s_m = 2 m / (M - 1), so that pairs differ in how much they
// truly share). share = 0: independent random models.
struct Level {
  double r = 0, null_p = 0, mantel_p = 0;   // Spearman(mutual_knn@10, cknna@10) and its tests
  double share_knn = 0, share_cknna = 0;    // chance shares
  std::vector<double> cka, cka_cal, cka_p;  // [M*M] mirrored
};

Level simulate(std::uint64_t seed, int M, int N, double share, int K, bool with_cka = true) {
  using namespace prh::metrics;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  auto gauss = [&](int r, int c) {
    MatrixF x(r, c);
    for (int i = 0; i < r; ++i)
      for (int j = 0; j < c; ++j) x(i, j) = g(rng);
    return x;
  };
  const int D = 16;
  const MatrixF Z = gauss(N, 4);
  std::vector<MetricSpec> specs;
  for (const char* n : {"mutual_knn:k=10", "cknna:k=10", "cka"})
    if (with_cka || std::string(n) != "cka") specs.push_back(parse_metric(n));
  const int C = static_cast<int>(specs.size());
  std::vector<std::vector<Representation>> reps;
  for (int m = 0; m < M; ++m) {
    const MatrixF W = gauss(4, D);
    MatrixF x = gauss(N, D);
    const float s = static_cast<float>(share * 2.0 * m / (M - 1));
    x += s * (Z * W);
    reps.push_back(make_representations({x}, PreprocessOptions{}, specs, "m"));
  }
  const auto P = static_cast<std::size_t>(M * (M - 1) / 2);
  std::vector<std::vector<double>> obs(C), null(C, std::vector<double>(P * K));
  std::vector<std::vector<double>> mat(C, std::vector<double>(M * M, kNaN));
  Level out;
  out.cka_cal.assign(M * M, kNaN);
  out.cka_p.assign(M * M, kNaN);
  std::size_t p = 0;
  for (int i = 0; i < M; ++i)
    for (int j = i + 1; j < M; ++j, ++p) {
      const auto o = compare_models(reps[i], reps[j], specs);
      PairNull pn(reps[i], reps[j], specs);
      for (int t = 0; t < K; ++t) {
        const auto v = pn.layer_max(prh::stats::seeded_permutation(seed, t, N));
        for (int c = 0; c < C; ++c) null[c][p * K + t] = v[c];
      }
      for (int c = 0; c < C; ++c) {
        obs[c].push_back(o[c].score);
        mat[c][i * M + j] = mat[c][j * M + i] = o[c].score;
      }
      if (!with_cka) continue;
      const std::vector<double> cn(null[2].begin() + p * K, null[2].begin() + (p + 1) * K);
      const auto cal = calibrate(o[2].score, cn, 0.05);
      out.cka_cal[i * M + j] = out.cka_cal[j * M + i] = cal.calibrated;
      out.cka_p[i * M + j] = out.cka_p[j * M + i] = cal.pvalue;
    }
  out.r = coefficient_finite(obs[0], obs[1], Method::Spearman);
  out.null_p = correlation_null(out.r, null[0], null[1], K, Method::Spearman).p;
  out.mantel_p = mantel(mat[0], mat[1], M, Method::Spearman, 999, seed).p;
  out.share_knn = chance_share(obs[0], null[0], K);
  out.share_cknna = chance_share(obs[1], null[1], K);
  if (with_cka) out.cka = mat[2];
  return out;
}

}  // namespace

TEST(StatsSweepSimulation, IndependentModelsBreakAtTheFirstLevel) {
  // 10 independent random models, N = 300 (issue 23, point 3): the two kNN
  // metrics correlate over the pairs through the pairs' shared chance
  // fluctuations alone. The calibration-null test rejects at about its
  // nominal rate, so the correlation breaking level is the first level (no
  // agreement beyond chance), never "never".
  const int reps = 20, M = 10, N = 300, K = 99;
  int rejected = 0, mantel_rejected = 0, at_first = 0;
  double share = 0;
  for (int r = 0; r < reps; ++r) {
    const auto lv = simulate(100 + r, M, N, 0.0, K, /*with_cka=*/false);
    rejected += lv.null_p < 0.05;
    mantel_rejected += lv.mantel_p < 0.05;
    share += (lv.share_knn + lv.share_cknna) / (2.0 * reps);
    at_first += correlation_breaking_level({0, 0.5}, {lv.null_p, lv.null_p}, 0.05) == 0.0;
  }
  std::printf(
      "independent models: Spearman null test rejects %d of %d, Mantel %d of %d; "
      "mean chance share %.3f\n",
      rejected, reps, mantel_rejected, reps, share);
  // Binomial(20, 0.05): P(X >= 5) = 0.003.
  EXPECT_LE(rejected, 4);
  // Mantel (models relabelled) calls the same data associated: it tests
  // pair-level association, which chance creates (measured: 20 of 20).
  EXPECT_GE(mantel_rejected, reps / 2);
  EXPECT_EQ(at_first, reps - rejected);
  // Every pair is null: chance explains about all of the spread.
  EXPECT_GT(share, 0.5);
  EXPECT_LT(share, 2.0);
}

TEST(StatsSweepSimulation, PlantedSharedStructureIsDetectedAndBreaksWhereItEnds) {
  // Level 0: a shared latent of pair-dependent strength; level 1: independent
  // models. The metrics agree beyond chance at level 0 (null p = 1/(K+1))
  // and the correlation breaks at level 1.
  const int M = 10, N = 300, K = 99;
  const auto planted = simulate(7, M, N, 1.0, K, false);
  const auto none = simulate(8, M, N, 0.0, K, false);
  EXPECT_DOUBLE_EQ(planted.null_p, 1.0 / (K + 1));
  EXPECT_LT(planted.share_knn, 0.2);
  EXPECT_LT(planted.share_cknna, 0.2);
  EXPECT_GE(none.null_p, 0.05);
  EXPECT_DOUBLE_EQ(correlation_breaking_level({0, 1}, {planted.null_p, none.null_p}, 0.05), 1.0);
}

TEST(StatsSweepSimulation, RelativeCalibratedScoreFindsAPlantedBreak) {
  // Features s * Z W_m + E with s falling by level; linear CKA calibrated by
  // its permutation null per pair. The shared latent is strong at levels 0-2
  // and all but gone from level 3: the relative calibrated score breaks at
  // level 3, in every resample.
  const int M = 8, N = 300, K = 99;
  const std::vector<double> s = {1.0, 0.9, 0.8, 0.15, 0.0};
  SweepInput in;
  in.M = M;
  for (std::size_t l = 0; l < s.size(); ++l) {
    in.levels.push_back(static_cast<double>(l));
    const auto lv = simulate(200 + l, M, N, s[l], K);
    std::vector<double> pv;
    std::vector<std::size_t> where;
    for (int i = 0; i < M; ++i)
      for (int j = i + 1; j < M; ++j) pv.push_back(lv.cka_p[i * M + j]), where.push_back(i * M + j);
    const auto q = bh_qvalues(pv);
    std::vector<double> qm(M * M, kNaN);
    for (std::size_t x = 0; x < q.size(); ++x)
      qm[where[x]] = qm[(where[x] % M) * M + where[x] / M] = q[x];
    in.scores.push_back({lv.cka});
    in.calibrated.push_back({lv.cka_cal});
    in.qvalues.push_back({qm});
  }
  BootstrapOptions bo;
  bo.resamples = 200;
  bo.seed = 2;
  const auto c = sweep_curves(in, bo);
  for (std::size_t l = 0; l < s.size(); ++l)
    std::printf("level %zu: relative %.3f [%.3f, %.3f], significant %.2f\n", l, c.relative[l],
                c.relative_low[l], c.relative_high[l], c.significant[l]);
  EXPECT_DOUBLE_EQ(c.relative_breaking[0], 3.0);
  EXPECT_LE(c.relative_breaking_low[0], 3.0);
  EXPECT_GE(c.relative_breaking_high[0], 3.0);
  EXPECT_GT(c.relative_breaking_agreement[0], 0.9);
  EXPECT_DOUBLE_EQ(c.relative[0], 1.0);
}
