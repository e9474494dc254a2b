// The LibTorch backend (prh_accel) against the CPU path (metrics::cpu_backend):
// every heavy step and all eight metrics end to end, on random inputs and on
// inputs with planted exact ties, within the tolerances of docs/gpu.md.
//
// The device is LibTorch's CPU unless PRH_TEST_DEVICE names another
// ("cuda": the ctest label `gpu`, registered with PRH_GPU_TESTS=ON only).
// Asking for cuda where there is none fails (no skip).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "float_bounds.hpp"
#include "naive.hpp"
#include "prh/accel/torch_backend.hpp"
#include "prh/core/error.hpp"
#include "prh/metrics/engine.hpp"
#include "prh/metrics/hsic.hpp"
#include "prh/metrics/null.hpp"
#include "prh/metrics/svcca.hpp"

using namespace prh::metrics;

namespace {

// The tolerances of docs/gpu.md ("Tolerance").
// A similarity <x_i, x_j>: float32 products of D terms on both sides, in
// whatever order each kernel sums them, so they differ by at most
// 2 gamma(D) |x_i| |x_j| (float_bounds.hpp); sim_tolerance(x) gives, per row
// i, that bound with |x_j| the largest row norm.
std::vector<double> sim_tolerance(const MatrixF& x) {
  double max_norm = 0;
  std::vector<double> norm(static_cast<std::size_t>(x.rows()));
  for (Index i = 0; i < x.rows(); ++i) {
    norm[static_cast<std::size_t>(i)] = x.row(i).cast<double>().norm();
    max_norm = std::max(max_norm, norm[static_cast<std::size_t>(i)]);
  }
  for (auto& v : norm)
    v = prh::testing::dot_difference_bound(static_cast<double>(x.cols()), v * max_norm);
  return norm;
}
// An entry of X^T Y, relative to sum_r |x_ri| |y_rj|: float32 products summed
// over chunks of at most 256 rows, the chunks accumulated in double, on both
// sides: each within gamma(256) (float32) + gamma(N / 256) (double) of the
// exact value (float_bounds.hpp), so twice that apart; the double part is
// below 1e-12 for any N here.
constexpr double kProductTol =
    2 * prh::testing::gamma_n(256, prh::testing::kUnitRoundoff32) + 1e-12;
// A score of cka, unbiased_cka (linear and RBF), cknna and svcca; also the
// RBF HSIC values relative to their largest term.
constexpr double kScoreTol = 1e-5;

std::string test_device() {
  const char* d = std::getenv("PRH_TEST_DEVICE");
  return d && *d ? d : "cpu";
}

const Backend& device_backend() {
  static const std::unique_ptr<Backend> be = prh::accel::make_torch_backend(
      {test_device(), "PRH_TEST_DEVICE=" + test_device(), "unset PRH_TEST_DEVICE"}, 0);
  return *be;
}

// Largest |difference| seen per quantity, printed at the end of a test (the
// numbers docs/gpu.md quotes).
void report(const std::string& what, double worst) {
  std::cout << "[ measured ] " << device_backend().name() << " vs cpu: " << what
            << ": max |diff| = " << worst << std::endl;
}

MatrixF integer_matrix(Index n, Index d, int lo, int hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(lo, hi);
  MatrixF x(n, d);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(u(rng));
  return x;
}

// The tie check: the two lists of every row hold the same neighbours, except
// neighbours whose similarity is within twice the row's similarity bound of
// the CPU's k-th; the c-th similarities agree within the bound
// (sim_tolerance of x, the features both lists come from). Returns the rows
// whose sets differ.
std::set<Index> check_lists(const NeighborLists& cpu, const NeighborLists& dev, const MatrixF& x,
                            const std::string& what) {
  const std::vector<double> tol = sim_tolerance(x);
  EXPECT_EQ(cpu.n, dev.n) << what;
  EXPECT_EQ(cpu.k, dev.k) << what;
  std::set<Index> differ;
  double worst = 0;
  const int k = cpu.k;
  for (Index i = 0; i < cpu.n; ++i) {
    const float kth = cpu.row_sim(i)[k - 1];
    const double sim_tol = tol[static_cast<std::size_t>(i)];
    std::set<int> sc(cpu.row(i), cpu.row(i) + k), sd(dev.row(i), dev.row(i) + k);
    EXPECT_EQ(sd.size(), static_cast<std::size_t>(k)) << what << ": row " << i << " repeats";
    EXPECT_EQ(sd.count(static_cast<int>(i)), 0u) << what << ": row " << i << " holds itself";
    for (int c = 0; c < k; ++c) {
      const double diff = std::abs(double(cpu.row_sim(i)[c]) - double(dev.row_sim(i)[c]));
      worst = std::max(worst, diff);
      EXPECT_LE(diff, sim_tol) << what << ": row " << i << ", position " << c;
    }
    if (sc == sd) continue;
    differ.insert(i);
    for (int c = 0; c < k; ++c) {
      if (!sd.count(cpu.row(i)[c])) {
        EXPECT_LE(std::abs(double(cpu.row_sim(i)[c]) - kth), 2 * sim_tol)
            << what << ": row " << i << ": neighbour " << cpu.row(i)[c]
            << " of the CPU is missing on the device and is no tie of the k-th";
      }
      if (!sc.count(dev.row(i)[c])) {
        EXPECT_LE(std::abs(double(dev.row_sim(i)[c]) - kth), 2 * sim_tol)
            << what << ": row " << i << ": neighbour " << dev.row(i)[c]
            << " of the device is not the CPU's and is no tie of the k-th";
      }
    }
  }
  report(what + " (neighbour similarities; " + std::to_string(differ.size()) +
             " rows with other sets)",
         worst);
  return differ;
}

void expect_products_close(const MatrixF& x, const MatrixF& y, const MatrixD& cpu,
                           const MatrixD& dev, const std::string& what) {
  ASSERT_EQ(cpu.rows(), dev.rows());
  ASSERT_EQ(cpu.cols(), dev.cols());
  const Eigen::MatrixXd bound =
      x.cast<double>().cwiseAbs().transpose() * y.cast<double>().cwiseAbs();
  double worst = 0;
  for (Index i = 0; i < cpu.rows(); ++i)
    for (Index j = 0; j < cpu.cols(); ++j) {
      const double diff = std::abs(cpu(i, j) - dev(i, j));
      worst = std::max(worst, diff / std::max(bound(i, j), 1e-30));
      EXPECT_LE(diff, kProductTol * bound(i, j) + 1e-12) << what << " (" << i << ", " << j << ")";
    }
  report(what + " (relative to sum |x||y|)", worst);
}

}  // namespace

TEST(AccelDevice, CudaIsClearOrWorks) {
  const prh::accel::DeviceRequest req{"cuda", "--device cuda", "use --device cpu"};
  if (prh::accel::cuda_usable()) {
    const auto be = prh::accel::make_torch_backend(req, 5);
    EXPECT_EQ(be->name().rfind("cuda:", 0), 0u) << be->name();
    return;
  }
  try {
    prh::accel::check_device(req);
    FAIL() << "no GPU here, but check_device accepted cuda";
  } catch (const prh::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--device cuda"), std::string::npos) << m;
    EXPECT_NE(m.find("CUDA is not available"), std::string::npos) << m;
    EXPECT_NE(m.find("use --device cpu"), std::string::npos) << m;
  }
  EXPECT_THROW(prh::accel::make_torch_backend(req, 0), prh::InputError);
}

TEST(AccelDevice, UnknownDevice) {
  EXPECT_THROW(prh::accel::check_device({"tpu", "--device tpu", "use --device cpu"}),
               prh::InputError);
  EXPECT_NO_THROW(prh::accel::check_device({"cpu", "--device cpu", ""}));
}

TEST(AccelBackend, Name) {
  const std::string name = device_backend().name();
  EXPECT_EQ(name, test_device() == "cpu" ? std::string("torch:cpu") : std::string("cuda:0"));
}

TEST(AccelKnn, RandomInputs) {
  struct Case {
    Index n, d;
    int k;
  };
  // Several row blocks (N x N above 2^24 elements needs N > 4096: 4500),
  // k = N - 1 (no margin beyond the window), k = 1.
  for (const auto& c : {Case{300, 16, 10}, Case{1000, 64, 50}, Case{120, 8, 119}, Case{4500, 24, 7},
                        Case{50, 4, 1}}) {
    const MatrixF x = naive::normalized(naive::random_matrix(c.n, c.d, 11 + c.k));
    const auto cpu = knn(x, c.k);
    const auto dev = device_backend().knn(x, c.k);
    check_lists(cpu, dev, x, "knn N=" + std::to_string(c.n) + " k=" + std::to_string(c.k));
  }
}

TEST(AccelKnn, PlantedExactTies) {
  // Small integers: every similarity is exact in float whatever the order of
  // the sums, so both sides see the same numbers and the lists must be
  // identical, ties broken to the lower index, also where a tie reaches far
  // past the top-k window (values in {-1, 0, 1}, D = 3: 27 distinct rows).
  for (const auto& [n, d, k] :
       {std::tuple<Index, Index, int>{200, 3, 10}, {300, 6, 25}, {64, 2, 63}, {500, 4, 1}}) {
    const MatrixF x = integer_matrix(n, d, -1, 1, static_cast<unsigned>(n + d));
    const auto cpu = knn(x, k);
    const auto dev = device_backend().knn(x, k);
    EXPECT_EQ(cpu.index, dev.index) << "N=" << n << " D=" << d << " k=" << k;
    EXPECT_EQ(cpu.sim, dev.sim) << "N=" << n << " D=" << d << " k=" << k;
  }
  // Duplicated rows of unit norm: their similarities are the very same
  // products, ties on both sides.
  MatrixF base = naive::normalized(naive::random_matrix(40, 12, 3));
  MatrixF x(160, 12);
  for (Index i = 0; i < 160; ++i) x.row(i) = base.row((i * 7) % 40);
  check_lists(knn(x, 9), device_backend().knn(x, 9), x, "knn duplicated rows");
}

TEST(AccelProducts, RandomInputs) {
  // Row counts not multiples of the 256-row chunk; wide and narrow.
  const MatrixF x = naive::random_matrix(700, 300, 5), y = naive::random_matrix(700, 130, 6);
  const auto c = cross_product(x, y), d = device_backend().cross_product(x, y);
  expect_products_close(x, y, c, d, "cross_product 700x300x130");
  const auto sc = self_product(x), sd = device_backend().self_product(x);
  expect_products_close(x, x, sc, sd, "self_product 700x300");
  for (Index i = 0; i < sd.rows(); ++i)
    for (Index j = 0; j < i; ++j) ASSERT_EQ(sd(i, j), sd(j, i)) << "self_product not symmetric";
  // Centred, normalised features as the moments use them.
  const auto [a, b] = naive::related_pair(1000, 48, 20, 9);
  const LinearMoments ma = make_moments(a), mb = make_moments(b, nullptr, device_backend());
  expect_products_close(ma.centred, ma.centred, ma.gram,
                        make_moments(a, nullptr, device_backend()).gram, "moments gram");
  expect_products_close(ma.centred, mb.centred, cross_product(ma.centred, mb.centred),
                        device_backend().cross_product(ma.centred, mb.centred), "centred cross");
}

TEST(AccelProducts, PlantedExactValues) {
  // Small integers: exact in float32 and in double on both sides.
  const MatrixF x = integer_matrix(600, 40, -3, 3, 1), y = integer_matrix(600, 17, -2, 2, 2);
  const MatrixD c = cross_product(x, y), d = device_backend().cross_product(x, y);
  EXPECT_EQ(c, d);
  EXPECT_EQ(self_product(x), device_backend().self_product(x));
}

TEST(AccelHsic, RbfRandomAndTies) {
  const auto [a, b] = naive::related_pair(700, 32, 24, 4);
  MatrixF ta = integer_matrix(300, 5, -1, 1, 7), tb = integer_matrix(300, 3, -1, 1, 8);
  double worst = 0;
  for (const auto& [x, y, name] :
       {std::tuple<const MatrixF*, const MatrixF*, const char*>{&a, &b, "random"},
        {&ta, &tb, "integer"}}) {
    for (double sigma : {1.0, 0.5, 2.0}) {
      const HsicSet c = hsic_rbf(*x, *y, sigma), d = device_backend().hsic_rbf(*x, *y, sigma);
      const double cv[] = {c.biased_kl,   c.biased_kk,   c.biased_ll,
                           c.unbiased_kl, c.unbiased_kk, c.unbiased_ll};
      const double dv[] = {d.biased_kl,   d.biased_kk,   d.biased_ll,
                           d.unbiased_kl, d.unbiased_kk, d.unbiased_ll};
      for (int v = 0; v < 6; ++v) {
        const double rel = std::abs(cv[v] - dv[v]) / std::max(std::abs(cv[v]), 1e-300);
        worst = std::max(worst, rel);
        EXPECT_LE(rel, kScoreTol) << name << " sigma " << sigma << " value " << v << ": " << cv[v]
                                  << " vs " << dv[v];
      }
      EXPECT_NEAR(cka_ratio(c.biased_kl, c.biased_kk, c.biased_ll),
                  cka_ratio(d.biased_kl, d.biased_kk, d.biased_ll), kScoreTol);
      EXPECT_NEAR(cka_ratio(c.unbiased_kl, c.unbiased_kk, c.unbiased_ll),
                  cka_ratio(d.unbiased_kl, d.unbiased_kk, d.unbiased_ll), kScoreTol);
    }
  }
  report("hsic_rbf (relative)", worst);
}

TEST(AccelEigen, TopEigenpairs) {
  // A Gram matrix with a spread spectrum, and one with a planted repeated
  // eigenvalue below the top ones; eigenvectors compared up to sign.
  const MatrixF x = naive::random_matrix(400, 60, 71);
  MatrixD g = self_product(x);
  double worst = 0;
  for (int count : {1, 10, 60}) {
    const Eigenpairs c = top_eigenpairs(g, count), d = device_backend().top_eigenpairs(g, count);
    ASSERT_EQ(d.values.size(), static_cast<std::size_t>(count));
    ASSERT_EQ(d.vectors.rows(), 60);
    ASSERT_EQ(d.vectors.cols(), count);
    for (int k = 0; k < count; ++k) {
      const double rel = std::abs(c.values[k] - d.values[k]) / std::abs(c.values.back());
      worst = std::max(worst, rel);
      EXPECT_LE(rel, 1e-10) << "count " << count << " value " << k;
      if (k + 1 < count && c.values[k + 1] - c.values[k] < 1e-6 * c.values.back()) continue;
      const double dot = std::abs(c.vectors.col(k).dot(d.vectors.col(k)));
      EXPECT_NEAR(dot, 1.0, 1e-8) << "count " << count << " vector " << k;
    }
  }
  report("top_eigenpairs (eigenvalues relative to the largest)", worst);
  // Only the lower triangle is read: garbage above the diagonal changes nothing.
  MatrixD lower = g;
  for (Index i = 0; i < 60; ++i)
    for (Index j = i + 1; j < 60; ++j) lower(i, j) = 1e6;
  const Eigenpairs c = top_eigenpairs(g, 5), d = device_backend().top_eigenpairs(lower, 5);
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(c.values[k], d.values[k], 1e-10 * c.values[4]);
  EXPECT_EQ(top_eigenpairs(lower, 5).values, c.values);  // the CPU's too
}

namespace {

// Scores of every configuration with both backends (each doing its own
// preparation), compared: the kNN metrics exactly where both sides' lists
// agree, and within the rows their lists' differences can touch otherwise
// (every row's term is in [0, 1]); the others within kScoreTol (cknna only
// where the lists agree: at a tie its mask differs by design).
void expect_scores_close(const std::vector<MatrixF>& a, const std::vector<MatrixF>& b,
                         const PreprocessOptions& pre, const std::vector<MetricSpec>& specs,
                         const std::string& what) {
  const auto ca = make_representations(a, pre, specs, "A");
  const auto cb = make_representations(b, pre, specs, "B");
  const auto da = make_representations(a, pre, specs, "A", device_backend());
  const auto db = make_representations(b, pre, specs, "B", device_backend());
  // Rows whose terms may differ: their lists differ, or (cycle_knn) a
  // neighbour's list does.
  std::set<Index> touched;
  bool lists_agree = true;
  for (std::size_t l = 0; l < ca.size(); ++l)
    if (ca[l].neighbors) {
      // Preprocessing runs on the CPU for both: the same features.
      ASSERT_EQ(ca[l].x, da[l].x) << what;
      ASSERT_EQ(cb[l].x, db[l].x) << what;
      const auto rows_a =
          check_lists(*ca[l].neighbors, *da[l].neighbors, ca[l].x, what + " lists of A");
      const auto rows_b =
          check_lists(*cb[l].neighbors, *db[l].neighbors, cb[l].x, what + " lists of B");
      lists_agree = lists_agree && rows_a.empty() && rows_b.empty();
      touched.insert(rows_a.begin(), rows_a.end());
      touched.insert(rows_b.begin(), rows_b.end());
      const auto& nb = *cb[l].neighbors;
      for (Index i = 0; i < nb.n; ++i)
        for (int c = 0; c < nb.k; ++c)
          if (rows_a.count(nb.row(i)[c]) || rows_a.count(db[l].neighbors->row(i)[c]))
            touched.insert(i);
    }
  const auto sc = compare_models(ca, cb, specs);
  const auto sd = compare_models(da, db, specs, {}, device_backend());
  double worst = 0;
  for (std::size_t s = 0; s < specs.size(); ++s) {
    const auto& sp = specs[s];
    const std::string name = what + " " + sp.name();
    ASSERT_EQ(std::isnan(sc[s].score), std::isnan(sd[s].score)) << name;
    if (std::isnan(sc[s].score)) continue;
    const double diff = std::abs(sc[s].score - sd[s].score);
    if (sp.uses_knn() && sp.kind != MetricKind::Cknna) {
      const double bound = static_cast<double>(touched.size()) / static_cast<double>(a[0].rows());
      EXPECT_LE(diff, bound) << name << ": " << sc[s].score << " vs " << sd[s].score;
      continue;
    }
    if (sp.kind == MetricKind::Cknna && !lists_agree) continue;
    worst = std::max(worst, diff);
    EXPECT_LE(diff, kScoreTol) << name << ": " << sc[s].score << " vs " << sd[s].score;
  }
  report(what + " (scores other than the kNN metrics)", worst);
}

std::vector<MetricSpec> all_configurations() {
  std::vector<MetricSpec> specs = default_metrics();
  for (const char* s : {"mutual_knn:k=5", "cycle_knn:k=20", "lcs_knn:k=3", "edit_distance_knn:k=7",
                        "cka:kernel=rbf,sigma=0.5", "unbiased_cka:kernel=rbf,sigma=2",
                        "cka:kernel=rbf", "cknna:k=25", "svcca:cca_dim=4"})
    specs.push_back(parse_metric(s));
  return specs;
}

}  // namespace

TEST(AccelEngine, AllMetricsRandom) {
  const auto specs = all_configurations();
  const auto [a, b] = naive::related_pair(500, 40, 24, 21);
  expect_scores_close({a}, {b}, PreprocessOptions{}, specs, "default preprocessing");
  PreprocessOptions exact;
  exact.exact = true;
  exact.q = 0.9;
  expect_scores_close({a}, {b}, exact, specs, "exact clamp q=0.9");
  PreprocessOptions raw;
  raw.clamp = false;
  raw.normalize = false;
  const MatrixF a3 = 3.0f * naive::random_matrix(300, 12, 2), b3 = naive::random_matrix(300, 14, 3);
  expect_scores_close({a3}, {b3}, raw, specs, "raw features");
}

TEST(AccelEngine, AllMetricsLayers) {
  const auto specs = all_configurations();
  const auto [a0, b0] = naive::related_pair(400, 30, 20, 31);
  const auto [a1, b1] = naive::related_pair(400, 16, 36, 41, 2.0f);
  expect_scores_close({a0, a1}, {b1, b0}, PreprocessOptions{}, specs, "two layers each");
}

TEST(AccelEngine, AllMetricsPlantedTies) {
  // Integer features, no clamp, no normalisation: exact similarities with
  // many ties; the lists must agree exactly, so every score must too.
  std::vector<MetricSpec> specs = all_configurations();
  PreprocessOptions raw;
  raw.clamp = false;
  raw.normalize = false;
  // D >= 10: svcca's default cca_dim.
  const MatrixF a = integer_matrix(240, 12, -1, 1, 51), b = integer_matrix(240, 10, -1, 2, 52);
  const auto ca = make_representations({a}, raw, specs, "A");
  const auto da = make_representations({a}, raw, specs, "A", device_backend());
  EXPECT_EQ(ca[0].neighbors->index, da[0].neighbors->index);
  expect_scores_close({a}, {b}, raw, specs, "integer features");
}

TEST(AccelNull, LinearCkaCrossProducts) {
  // The calibration's per-permutation cross products through the backend.
  const std::vector<MetricSpec> specs{parse_metric("cka"), parse_metric("unbiased_cka"),
                                      parse_metric("mutual_knn")};
  const auto [a, b] = naive::related_pair(300, 20, 14, 61);
  const auto ra = make_representations({a}, PreprocessOptions{}, specs, "A");
  const auto rb = make_representations({b}, PreprocessOptions{}, specs, "B");
  PairNull cpu(ra, rb, specs), dev(ra, rb, specs, device_backend());
  Permutation perm(300);
  for (std::int32_t i = 0; i < 300; ++i) perm[static_cast<std::size_t>(i)] = (i * 7 + 3) % 300;
  const auto c = cpu.layer_max(perm), d = dev.layer_max(perm);
  for (std::size_t s = 0; s < specs.size(); ++s)
    EXPECT_NEAR(c[s], d[s], kScoreTol) << specs[s].name();
  EXPECT_EQ(c[2], d[2]);  // the lists are the CPU's on both sides
}
