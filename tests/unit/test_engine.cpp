#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <Eigen/QR>

#include "helpers.hpp"
#include "naive.hpp"
#include "prh/core/error.hpp"
#include "prh/core/threads.hpp"

using namespace prh::metrics;
using testing_helpers::no_clamp;
using testing_helpers::raw;

namespace {

std::vector<double> all_scores(const MatrixF& a, const MatrixF& b, const PreprocessOptions& pre,
                               const std::vector<MetricSpec>& specs) {
  auto ra = make_representations({a}, pre, specs, "A");
  auto rb = make_representations({b}, pre, specs, "B");
  std::vector<double> out;
  for (const auto& m : compare_models(ra, rb, specs)) out.push_back(m.score);
  return out;
}

MatrixF random_orthogonal(Index d, unsigned seed) {
  const Eigen::MatrixXd g = naive::random_matrix(d, d, seed).cast<double>();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  return Eigen::MatrixXd(qr.householderQ()).cast<float>();
}

// A signed permutation: orthogonal, and it commutes with per-element clamps and
// per-column standardisation.
MatrixF signed_permutation(Index d, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<Index> p(static_cast<std::size_t>(d));
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), rng);
  MatrixF q = MatrixF::Zero(d, d);
  for (Index i = 0; i < d; ++i) q(i, p[static_cast<std::size_t>(i)]) = (rng() % 2) ? 1.0f : -1.0f;
  return q;
}

MatrixF permute_rows(const MatrixF& x, const std::vector<Index>& p) {
  MatrixF y(x.rows(), x.cols());
  for (Index i = 0; i < x.rows(); ++i) y.row(i) = x.row(p[static_cast<std::size_t>(i)]);
  return y;
}

}  // namespace

TEST(Engine, IdenticalInputsGiveTheMaximum) {
  const MatrixF x = naive::random_matrix(200, 32, 1);
  const auto specs = default_metrics();
  const auto s = all_scores(x, x, PreprocessOptions{}, specs);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].kind == MetricKind::CycleKnn) continue;  // not 1 by definition (hubness)
    // cknna: s / (s + 1e-6) with s = HSIC_u of the masked kernel, about 5e-3 here.
    EXPECT_NEAR(s[i], 1.0, specs[i].kind == MetricKind::Cknna ? 1e-3 : 1e-4) << specs[i].name();
  }
}

TEST(Engine, InvariantToOrthogonalRotationOfOneInput) {
  // Rotation changes per-element clamps and per-column standardisation, so this
  // holds with the clamp off, and for SVCCA only when cca_dim spans all of D.
  const auto [a, b] = naive::related_pair(300, 12, 12, 4);
  const MatrixF br = b * random_orthogonal(12, 9);
  std::vector<MetricSpec> specs = default_metrics();
  specs.back() = parse_metric("svcca:cca_dim=12");
  specs.push_back(parse_metric("cka:kernel=rbf,sigma=0.7"));
  specs.push_back(parse_metric("cknna:k=30"));
  const auto s0 = all_scores(a, b, no_clamp(), specs);
  const auto s1 = all_scores(a, br, no_clamp(), specs);
  for (std::size_t i = 0; i < specs.size(); ++i) EXPECT_NEAR(s0[i], s1[i], 1e-5) << specs[i].name();
}

TEST(Engine, InvariantToSignedPermutationWithDefaults) {
  const auto [a, b] = naive::related_pair(300, 40, 24, 5);
  const MatrixF bp = b * signed_permutation(24, 3);
  const auto specs = default_metrics();
  const auto s0 = all_scores(a, b, PreprocessOptions{}, specs);
  const auto s1 = all_scores(a, bp, PreprocessOptions{}, specs);
  for (std::size_t i = 0; i < specs.size(); ++i) EXPECT_NEAR(s0[i], s1[i], 1e-5) << specs[i].name();
}

TEST(Engine, InvariantToJointRowPermutation) {
  const auto [a, b] = naive::related_pair(250, 20, 16, 6);
  std::vector<Index> p(250);
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), std::mt19937(8));
  auto specs = default_metrics();
  specs.push_back(parse_metric("unbiased_cka:kernel=rbf,sigma=1.5"));
  const auto s0 = all_scores(a, b, PreprocessOptions{}, specs);
  const auto s1 = all_scores(permute_rows(a, p), permute_rows(b, p), PreprocessOptions{}, specs);
  for (std::size_t i = 0; i < specs.size(); ++i) EXPECT_NEAR(s0[i], s1[i], 1e-5) << specs[i].name();
}

TEST(Engine, IndependentInputsGiveChanceLevels) {
  const Index n = 1000;
  const int k = 10;
  const MatrixF a = naive::random_matrix(n, 64, 100), b = naive::random_matrix(n, 64, 200);
  const std::vector<MetricSpec> specs{parse_metric("mutual_knn:k=10"), parse_metric("unbiased_cka"),
                                      parse_metric("cknna:k=10"), parse_metric("cycle_knn:k=10")};
  const auto s = all_scores(a, b, PreprocessOptions{}, specs);
  const double chance = static_cast<double>(k) / static_cast<double>(n - 1);
  EXPECT_NEAR(s[0], chance, 0.004);  // sd of the mean is about 0.001
  EXPECT_NEAR(s[1], 0.0, 0.01);
  EXPECT_NEAR(s[2], 0.0, 0.05);
  // cycle: P(i in the union of k lists of k) ~ 1 - (1 - k/(N-1))^k
  EXPECT_NEAR(s[3], 1 - std::pow(1 - chance, k), 0.03);
}

TEST(Engine, LayerMaximumAndArgmax) {
  // B's layer 1 equals A's layer 2: that pair must win every metric.
  const auto [a0, b0] = naive::related_pair(150, 16, 16, 30, 2.0f);
  const auto [a1, b1] = naive::related_pair(150, 16, 16, 31, 2.0f);
  const MatrixF a2 = naive::random_matrix(150, 16, 32);
  const auto specs = default_metrics();
  auto ra = make_representations({a0, a1, a2}, PreprocessOptions{}, specs, "A");
  auto rb = make_representations({b0, a2, b1}, PreprocessOptions{}, specs, "B");
  const auto best = compare_models(ra, rb, specs);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].kind == MetricKind::CycleKnn) continue;
    EXPECT_EQ(best[i].layer_a, 2) << specs[i].name();
    EXPECT_EQ(best[i].layer_b, 1) << specs[i].name();
    EXPECT_NEAR(best[i].score, 1.0, 1e-3) << specs[i].name();
  }
}

TEST(Engine, RunningMaximumStartsAtMinusInfinity) {
  // Every layer pair gives a negative unbiased CKA: the maximum and its layers
  // must still be reported (the reference starts at 0 and loses them).
  MatrixF a(4, 1), b0(4, 1), b1(4, 1);
  a << 1, 2, 3, 4;
  b0 << 1, 3, 2, 4;  // -1/26 (see test_hsic.cpp)
  b1 << 1, 4, 3, 2;
  const std::vector<MetricSpec> specs{parse_metric("unbiased_cka")};
  auto ra = make_representations({a}, raw(), specs, "A");
  auto rb = make_representations({b1, b0}, raw(), specs, "B");
  const auto best = compare_models(ra, rb, specs);
  EXPECT_NEAR(best[0].score, (-1.0 / 12) / (13.0 / 6 + 1e-6), 1e-12);
  EXPECT_EQ(best[0].layer_a, 0);
  EXPECT_EQ(best[0].layer_b, 1);
}

TEST(Engine, AllNaNGivesNaNAndReportsIt) {
  const MatrixF c = MatrixF::Ones(10, 3), x = naive::random_matrix(10, 3, 1);
  const std::vector<MetricSpec> specs{parse_metric("cka")};
  auto ra = make_representations({c}, raw(), specs, "A");
  auto rb = make_representations({x}, raw(), specs, "B");
  int reported = 0;
  const auto best =
      compare_models(ra, rb, specs, [&](const MetricSpec&, int, int, const std::string& why) {
        ++reported;
        EXPECT_NE(why.find("<= 0"), std::string::npos);
      });
  EXPECT_TRUE(std::isnan(best[0].score));
  EXPECT_EQ(best[0].layer_a, -1);
  EXPECT_EQ(reported, 1);
}

TEST(Engine, NeighbourListsAreSharedAcrossConfigurations) {
  // One preparation at the largest k serves every kNN configuration.
  const auto [a, b] = naive::related_pair(120, 8, 8, 40);
  const std::vector<MetricSpec> specs{parse_metric("mutual_knn:k=5"), parse_metric("cknna:k=20"),
                                      parse_metric("lcs_knn:k=12")};
  auto ra = make_representations({a}, PreprocessOptions{}, specs, "A");
  ASSERT_TRUE(ra[0].neighbors.has_value());
  EXPECT_EQ(ra[0].neighbors->k, 20);
  EXPECT_FALSE(ra[0].moments.has_value());
  const auto together = all_scores(a, b, PreprocessOptions{}, specs);
  for (std::size_t i = 0; i < specs.size(); ++i)
    EXPECT_DOUBLE_EQ(together[i], all_scores(a, b, PreprocessOptions{}, {specs[i]})[0]);
}

TEST(Engine, ErrorsNameTheProblem) {
  const MatrixF a = naive::random_matrix(10, 3, 1), b = naive::random_matrix(11, 3, 2);
  EXPECT_THROW(all_scores(a, b, PreprocessOptions{}, {parse_metric("cka")}), prh::InputError);
  EXPECT_THROW(all_scores(a, a, PreprocessOptions{}, {parse_metric("mutual_knn:k=10")}),
               prh::InputError);
}

TEST(Engine, ThreadCountDoesNotChangeResults) {
  // Several Gram tiles (N > kGramTile) and several product slices (D > 128).
  const auto [a, b] = naive::related_pair(2100, 300, 200, 77);
  auto specs = default_metrics();
  specs.push_back(parse_metric("cka:kernel=rbf,sigma=0.9"));
  specs.push_back(parse_metric("unbiased_cka:kernel=rbf,sigma=0.9"));
  std::vector<std::vector<double>> runs;
  for (int threads : {1, 2, 3}) {
    prh::configure_threads(threads);
    runs.push_back(all_scores(a, b, PreprocessOptions{}, specs));
  }
  prh::configure_threads(0);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(runs[0][i], runs[1][i]) << specs[i].name();
    EXPECT_EQ(runs[0][i], runs[2][i]) << specs[i].name();
  }
}

// compare_layers keeps every layer pair's score; layer_max over all of them is
// compare_models (the same value and layers, bit for bit), and over the last
// layers alone it is the score of the last layers (the headline of
// last_layer_only with the layer profile on).
TEST(Engine, LayerScoresAndTheirMaximum) {
  const auto specs =
      std::vector<MetricSpec>{parse_metric("mutual_knn:k=5"), parse_metric("cknna:k=5"),
                              parse_metric("cka"), parse_metric("svcca:cca_dim=4")};
  std::vector<MatrixF> la, lb;
  for (unsigned l = 0; l < 3; ++l) la.push_back(naive::random_matrix(60, 12 + 4 * l, 10 + l));
  for (unsigned l = 0; l < 2; ++l) lb.push_back(naive::random_matrix(60, 8 + 8 * l, 20 + l));
  const auto ra = make_representations(la, PreprocessOptions{}, specs, "A");
  const auto rb = make_representations(lb, PreprocessOptions{}, specs, "B");
  const auto all = compare_layers(ra, rb, specs);
  const auto best = compare_models(ra, rb, specs);
  ASSERT_EQ(all.size(), specs.size());
  for (std::size_t s = 0; s < specs.size(); ++s) {
    ASSERT_EQ(all[s].rows, 3);
    ASSERT_EQ(all[s].cols, 2);
    for (int l = 0; l < 3; ++l)
      for (int m = 0; m < 2; ++m) {
        const auto one = score_layer_pair(ra[static_cast<std::size_t>(l)],
                                          rb[static_cast<std::size_t>(m)], {specs[s]});
        EXPECT_EQ(all[s].at(l, m), one[0]) << specs[s].name() << " " << l << " " << m;
      }
    const auto mx = layer_max(all[s], {0, 1, 2}, {0, 1});
    EXPECT_EQ(mx.score, best[s].score);
    EXPECT_EQ(mx.layer_a, best[s].layer_a);
    EXPECT_EQ(mx.layer_b, best[s].layer_b);
    // The last layers only: compare_models on the last layers alone.
    const auto last = layer_max(all[s], {2}, {1});
    const auto alone = compare_models({ra[2]}, {rb[1]}, {specs[s]});
    EXPECT_EQ(last.score, alone[0].score) << specs[s].name();
    EXPECT_EQ(last.layer_a, 2);
    EXPECT_EQ(last.layer_b, 1);
  }
  // NaN everywhere: NaN and -1.
  LayerScores none{1, 1, {std::nan("")}};
  const auto n = layer_max(none, {0}, {0});
  EXPECT_TRUE(std::isnan(n.score));
  EXPECT_EQ(n.layer_a, -1);
}
