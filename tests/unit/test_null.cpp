// Fast permutation nulls (metrics/null.hpp) against the slow path: the
// permuted raw features through prh compare's code (make_representations,
// score_layer_pair, compare_models).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <string>

#include "float_bounds.hpp"
#include "prh/core/error.hpp"
#include "prh/core/threads.hpp"
#include "prh/metrics/null.hpp"
#include "prh/metrics/tiles.hpp"
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

// Features on which every computation of the metrics is exact in float32
// and double, whatever the BLAS kernel, the thread count or the order of the
// sums: small integers (|x| <= 31, D <= 16: every similarity, Gram entry and
// HSIC sum is an integer far below 2^24, resp. 2^53), rows in +/- pairs (row
// i + n/2 = -row i), so every column mean is exactly 0 and centring changes
// nothing, and no ties: in every row the |similarities| to the other rows and
// the squared norm are distinct and non-zero, so the top-k order needs no tie
// rule. Rows are drawn one by one and redrawn until that holds. With `base`,
// row i is base's row i (first d columns) plus small integer noise: a model
// related to base.
MatrixF exact_features(std::mt19937_64& rng, Index half, Index d, const MatrixF* base = nullptr) {
  std::uniform_int_distribution<int> wide(-31, 31), noise(-4, 4);
  MatrixF x(2 * half, d);
  std::vector<std::set<long>> used(static_cast<std::size_t>(half));
  auto dot = [&](Index i, const Eigen::RowVectorXf& v) {
    long s = 0;
    for (Index c = 0; c < d; ++c) s += static_cast<long>(x(i, c)) * static_cast<long>(v(c));
    return s;
  };
  for (Index r = 0; r < half; ++r) {
    for (int attempt = 0;; ++attempt) {
      PRH_ASSERT(attempt < 10000, "exact_features: no tie-free row {}", r);
      Eigen::RowVectorXf v(d);
      for (Index c = 0; c < d; ++c)
        v(c) = static_cast<float>(base ? base->coeff(r, c) + noise(rng) : wide(rng));
      long self = 0;
      for (Index c = 0; c < d; ++c) self += static_cast<long>(v(c)) * static_cast<long>(v(c));
      std::set<long> mine{self};
      bool ok = self != 0;
      for (Index i = 0; ok && i < r; ++i) {
        const long s = std::labs(dot(i, v));
        ok = s != 0 && !used[static_cast<std::size_t>(i)].count(s) && mine.insert(s).second;
      }
      if (!ok) continue;
      for (Index i = 0; i < r; ++i) used[static_cast<std::size_t>(i)].insert(std::labs(dot(i, v)));
      used[static_cast<std::size_t>(r)] = std::move(mine);
      x.row(r) = v;
      x.row(r + half) = -v;
      break;
    }
  }
  return x;
}

PreprocessOptions raw_features() {
  PreprocessOptions raw;
  raw.clamp = false;
  raw.normalize = false;
  return raw;
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

// The fast null and the score of the relabelled representation read the
// same similarities and moments: the kNN metrics count integers from the
// very same lists and cka, unbiased_cka and svcca run the same products on
// the same rows (equal); cknna sums the same double terms in another order
// (its transpose term through reverse positions): at most 2 gamma(n k) of
// double rounding on each of its three HSIC sums, relative to their absolute
// terms; 1e-10 allows a cancellation of up to 100x between them.
// svcca: the fast null forms U_A^T P U_B from the bases in double, the
// relabelled score from Xc_A^T P Xc_B (float32 sums over 256-row chunks)
// mapped by the bases w: each entry of that product moves by at most
// 2 gamma(256) |w_i|^T |Xc_A|^T |Xc_B| |w_j|, which is about 2 gamma(256)
// when |Xc w| behaves like the orthonormal U (|u|^T |u'| <= 1): the mean of
// cca_dim singular values then moves by at most cca_dim x that (Weyl). An
// approximate bound (the |w| step is not carried through exactly).
double same_inputs_tolerance(const MetricSpec& s) {
  if (s.kind == MetricKind::Svcca)
    return s.cca_dim * 2 * prh::testing::gamma_n(256, prh::testing::kUnitRoundoff32);
  return s.kind == MetricKind::Cknna ? 1e-10 : 0.0;
}

// On exact features every input of every score is exact, so the scores are
// identical, except svcca: the recomputed bases U = Xc w come out of GEMMs
// whose double sums of the (exact) products with w run in another order per
// row position: canonical correlations of orthonormal bases (|u| = 1) move
// by at most 2 gamma(N) u64 per entry of U_A^T U_B, far below 1e-12.
double exact_tolerance(const MetricSpec& s) {
  return s.kind == MetricKind::Svcca ? 1e-12 : 0.0;
}

// Row i of the relabelled lists against row i of the lists recomputed from
// the permuted features, on features whose similarities are rounded (any BLAS
// kernel): each position's similarity within the float32 dot-product bound
// (float_bounds.hpp) of the two rows, and a neighbour on one side only is a
// tie of the k-th within twice that. Returns the rows whose sets differ.
std::set<Index> expect_lists_within_rounding(const NeighborLists& fast, const NeighborLists& slow,
                                             const MatrixF& x, const std::string& what) {
  std::vector<double> norm(static_cast<std::size_t>(x.rows()));
  double max_norm = 0;
  for (Index i = 0; i < x.rows(); ++i) {
    norm[static_cast<std::size_t>(i)] = x.row(i).cast<double>().norm();
    max_norm = std::max(max_norm, norm[static_cast<std::size_t>(i)]);
  }
  std::set<Index> differ;
  for (Index i = 0; i < fast.n; ++i) {
    const double tol = prh::testing::dot_difference_bound(
        static_cast<double>(x.cols()), norm[static_cast<std::size_t>(i)] * max_norm);
    for (int c = 0; c < fast.k; ++c)
      EXPECT_LE(std::abs(double(fast.row_sim(i)[c]) - double(slow.row_sim(i)[c])), tol)
          << what << ": row " << i << ", position " << c;
    const std::set<int> sf(fast.row(i), fast.row(i) + fast.k),
        ss(slow.row(i), slow.row(i) + slow.k);
    if (sf == ss) continue;
    differ.insert(i);
    const double kth = slow.row_sim(i)[slow.k - 1];
    for (int c = 0; c < fast.k; ++c)
      if (!ss.count(fast.row(i)[c])) {
        EXPECT_LE(std::abs(double(fast.row_sim(i)[c]) - kth), 2 * tol)
            << what << ": row " << i << ": neighbour " << fast.row(i)[c] << " is no near tie";
      }
  }
  return differ;
}

// Linear CKA of (x, y) recomputed from rows in another order: every entry of
// Xc^T Yc is float32 products summed over chunks of at most 256 rows (then in
// double), so it moves by at most 2 (gamma(256) + 2u) (|Xc|^T |Yc|)_ij (the
// 2u: the centred values themselves may round the other way when the column
// mean's double sum does). Carried through HSIC = |C|_F^2 and
// cka = H_xy / sqrt(H_xx H_yy): relative change at most
// d_xy + d_yy / 2 (+ second order; here d_xy + d_yy), with
// d = (2 sum |C_ij| E_ij + sum E_ij^2) / |C|_F^2. x's own Gram is unchanged
// (its rows are not permuted).
double cka_recompute_bound(const MatrixF& x, const MatrixF& y, double score) {
  const double e = 2.0 * (prh::testing::gamma_n(256, prh::testing::kUnitRoundoff32) +
                          2 * prh::testing::kUnitRoundoff32);
  auto centred = [](const MatrixF& m) {
    Eigen::MatrixXd c = m.cast<double>();
    return Eigen::MatrixXd(c.rowwise() - c.colwise().mean());
  };
  const Eigen::MatrixXd cx = centred(x), cy = centred(y);
  auto rel = [&](const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    const Eigen::MatrixXd c = a.transpose() * b;
    const Eigen::MatrixXd err = e * (a.cwiseAbs().transpose() * b.cwiseAbs());
    return (2 * (c.cwiseAbs().cwiseProduct(err)).sum() + err.squaredNorm()) / c.squaredNorm();
  };
  return std::abs(score) * (rel(cx, cy) + rel(cy, cy)) + 1e-15;
}

}  // namespace

TEST(Null, RelabelledListsAreTheListsOfThePermutedFeatures) {
  // Exact similarities, no ties: the relabelled lists must be, bit for bit,
  // the lists computed from the permuted features, on any CPU.
  std::mt19937_64 rng(1);
  const MatrixF raw = exact_features(rng, 32, 16);
  const auto specs = specs_of({"mutual_knn:k=20"});
  const auto b = make_representations({raw}, raw_features(), specs, "B");
  for (std::uint64_t t = 0; t < 5; ++t) {
    const Permutation perm = prh::stats::seeded_permutation(9, t, raw.rows());
    const auto fast = permute(b[0], perm);
    const auto slow = make_representations({permute_rows(raw, perm)}, raw_features(), specs, "B'");
    EXPECT_EQ(fast.neighbors->index, slow[0].neighbors->index) << "perm " << t;
    EXPECT_EQ(fast.neighbors->sim, slow[0].neighbors->sim) << "perm " << t;
  }
}

TEST(Null, RelabelledListsMatchRecomputedListsWithinRounding) {
  // Gaussian features, default preprocessing: the recomputation sums each
  // similarity in another kernel position, so it may round otherwise.
  std::mt19937_64 rng(1);
  const MatrixF raw = gaussian(rng, 200, 16);
  const auto specs = specs_of({"mutual_knn:k=20"});
  const auto b = make_representations({raw}, PreprocessOptions{}, specs, "B");
  for (std::uint64_t t = 0; t < 5; ++t) {
    const Permutation perm = prh::stats::seeded_permutation(9, t, 200);
    const auto fast = permute(b[0], perm);
    const auto slow =
        make_representations({permute_rows(raw, perm)}, PreprocessOptions{}, specs, "B'");
    // Preprocessing is row by row (and the clamp's threshold a double mean):
    // the permuted rows are the same numbers.
    ASSERT_EQ(permute_rows(b[0].x, perm), slow[0].x) << "perm " << t;
    expect_lists_within_rounding(*fast.neighbors, *slow[0].neighbors, slow[0].x,
                                 "perm " + std::to_string(t));
  }
}

// |c2_gram - c2_cross| for the same centred rows xc and P yc: the cross
// product's entries are float sums over chunks of at most 256 rows (then
// double): |dC| <= E = gamma(256) u32 (|Xc|^T |P Yc|), so c2 moves by at most
// 2 sum |C| E + sum E^2; the Gram path's c2 by (2 u32 + 3 gamma(N^2) u64)
// sum |K| |L'| (PermutedGramTraceIsTheCrossProductNorm).
double linear_paths_c2_bound(const MatrixF& xc, const MatrixF& pyc) {
  const Eigen::MatrixXd a = xc.cast<double>(), b = pyc.cast<double>();
  const Eigen::MatrixXd c = a.transpose() * b;
  const Eigen::MatrixXd e = prh::testing::gamma_n(256, prh::testing::kUnitRoundoff32) *
                            (a.cwiseAbs().transpose() * b.cwiseAbs());
  const double cross = 2 * c.cwiseAbs().cwiseProduct(e).sum() + e.squaredNorm();
  const Eigen::MatrixXd ka = a.cwiseAbs() * a.cwiseAbs().transpose();
  const Eigen::MatrixXd lb = b.cwiseAbs() * b.cwiseAbs().transpose();
  const double n2 = static_cast<double>(xc.rows()) * static_cast<double>(xc.rows());
  const double gram = (2 * prh::testing::kUnitRoundoff32 +
                       3 * prh::testing::gamma_n(n2 + 8, prh::testing::kUnitRoundoff64)) *
                      ka.cwiseProduct(lb).sum();
  return cross + gram;
}

TEST(Null, FastEqualsSlowOnExactArithmetic) {
  // The fast null's claim, tested where it must hold to the bit on any CPU:
  // on exact features (exact_features) the score of the relabelled
  // representation, the fast null and the score recomputed from the permuted
  // features are the same numbers, for every metric, per layer pair and for
  // the layer maximum, in both orientations.
  std::mt19937_64 rng(2);
  const Index half = 32;
  const std::vector<MatrixF> raw_a{exact_features(rng, half, 12), exact_features(rng, half, 16)};
  const std::vector<MatrixF> raw_b{exact_features(rng, half, 14, &raw_a[1]),
                                   exact_features(rng, half, 10)};
  const auto specs = specs_of(kAll);
  const auto a = make_representations(raw_a, raw_features(), specs, "A");
  const auto b = make_representations(raw_b, raw_features(), specs, "B");
  const Index n = 2 * half;
  for (int orient = 0; orient < 2; ++orient) {
    const auto& x = orient == 0 ? a : b;
    const auto& y = orient == 0 ? b : a;
    const auto& raw_y = orient == 0 ? raw_b : raw_a;
    // Both linear-kernel paths (cross product, Gram trace) are exact here:
    // integer Gram entries below 2^24, products and sums below 2^53.
    const LinearNullPath path = orient == 0 ? LinearNullPath::kCross : LinearNullPath::kGram;
    PairNull pair_null(x, y, specs, cpu_backend(), path);
    for (std::uint64_t t = 0; t < 6; ++t) {
      const Permutation perm = prh::stats::seeded_permutation(4, t, n);
      std::vector<MatrixF> raw_py;
      for (const auto& r : raw_y) raw_py.push_back(permute_rows(r, perm));
      const auto slow_y = make_representations(raw_py, raw_features(), specs, "Y'");
      const auto fast_pairs = pair_null.layer_pairs(perm);
      ASSERT_EQ(fast_pairs.size(), x.size() * y.size());
      for (std::size_t l = 0; l < x.size(); ++l)
        for (std::size_t m = 0; m < y.size(); ++m) {
          const auto relabelled = score_layer_pair(x[l], permute(y[m], perm), specs);
          const auto slow = score_layer_pair(x[l], slow_y[m], specs);
          const auto& fast = fast_pairs[l * y.size() + m];
          for (std::size_t s = 0; s < specs.size(); ++s) {
            EXPECT_NEAR(relabelled[s], slow[s], exact_tolerance(specs[s]))
                << specs[s].name() << " layers " << l << "," << m << " perm " << t;
            EXPECT_NEAR(fast[s], slow[s], exact_tolerance(specs[s]))
                << specs[s].name() << " PairNull, orientation " << orient << ", layers " << l << ","
                << m << " perm " << t;
          }
        }
      const auto fast_max = pair_null.layer_max(perm);
      const auto slow_max = compare_models(x, slow_y, specs);
      for (std::size_t s = 0; s < specs.size(); ++s)
        EXPECT_NEAR(fast_max[s], slow_max[s].score, exact_tolerance(specs[s]))
            << specs[s].name() << " layer max, orientation " << orient << ", perm " << t;
      // The other path on the same pair gives the very same linear scores.
      PairNull other(
          x, y, specs, cpu_backend(),
          path == LinearNullPath::kGram ? LinearNullPath::kCross : LinearNullPath::kGram);
      const auto other_max = other.layer_max(perm);
      for (std::size_t s = 0; s < specs.size(); ++s)
        if (specs[s].kind == MetricKind::Cka || specs[s].kind == MetricKind::UnbiasedCka) {
          EXPECT_EQ(other_max[s], fast_max[s]) << specs[s].name() << " other linear path";
        }
    }
  }
}

// The Gram path's c2 = trace(K P L P^T) against ||Xc^T P Yc||_F^2 computed
// in long double from the same centred floats: K and L are exact double sums
// rounded once to float (|dK_ij| <= u32 |K_ij| + gamma(D) u64 (|Xc||Xc|^T)_ij),
// products are exact in double and the N^2 double additions add
// gamma(N^2) u64 sum |K||L'|: in all at most (2 u32 + 3 gamma) sum_ij
// |K_ij| |L'_ij| with |.| of the exact Grams (bounded here by |Xc||Xc|^T).
TEST(Null, PermutedGramTraceIsTheCrossProductNorm) {
  std::mt19937_64 rng(11);
  for (const Index n : {Index(1), Index(2), Index(9), Index(97)}) {
    const MatrixF x = gaussian(rng, n, 7), y = gaussian(rng, n, 5);
    auto centred = [](const MatrixF& m) {
      const Eigen::RowVectorXf mean = m.colwise().mean();
      return MatrixF(m.rowwise() - mean);
    };
    const MatrixF xc = centred(x), yc = centred(y);
    const MatrixF k = row_gram(xc), l = row_gram(yc);
    for (std::uint64_t t = 0; t < 4; ++t) {
      const Permutation perm = prh::stats::seeded_permutation(5, t, n);
      const MatrixF pyc = permute_rows(yc, perm);
      long double exact = 0, scale = 0;
      for (Index a = 0; a < xc.cols(); ++a)
        for (Index b = 0; b < yc.cols(); ++b) {
          long double c = 0;
          for (Index i = 0; i < n; ++i) c += static_cast<long double>(xc(i, a)) * pyc(i, b);
          exact += c * c;
        }
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < n; ++j) {
          long double ka = 0, lb = 0;
          for (Index a = 0; a < xc.cols(); ++a) ka += std::fabs(xc(i, a) * xc(j, a));
          for (Index b = 0; b < yc.cols(); ++b) lb += std::fabs(pyc(i, b) * pyc(j, b));
          scale += ka * lb;
        }
      const double got = permuted_gram_trace(k, l, perm.data());
      const double gam =
          prh::testing::gamma_n(static_cast<double>(n * n + 8), prh::testing::kUnitRoundoff64);
      const double bound =
          (2 * prh::testing::kUnitRoundoff32 + 3 * gam) * static_cast<double>(scale) + 1e-300;
      EXPECT_LE(std::fabs(got - static_cast<double>(exact)), bound)
          << "N = " << n << ", permutation " << t;
    }
  }
  // The same number for any thread count (several blocks of 64 rows).
  {
    const MatrixF x = gaussian(rng, 300, 6), y = gaussian(rng, 300, 4);
    const MatrixF k = row_gram(x), l = row_gram(y);
    const Permutation perm = prh::stats::seeded_permutation(6, 0, 300);
    std::vector<double> runs;
    for (int threads : {1, 2, 3}) {
      prh::configure_threads(threads);
      runs.push_back(permuted_gram_trace(k, l, perm.data()));
    }
    prh::configure_threads(0);
    EXPECT_EQ(runs[0], runs[1]);
    EXPECT_EQ(runs[0], runs[2]);
  }
  // Both sides' rows must match.
  const MatrixF k = MatrixF::Zero(3, 3), l = MatrixF::Zero(4, 4);
  const Permutation perm{0, 1, 2};
  EXPECT_THROW(permuted_gram_trace(k, l, perm.data()), prh::InternalError);
}

TEST(Null, LinearNullPathRule) {
  // The Gram path where the cross product costs more (D_A D_B > 10 N) and
  // the two N x N matrices stay small (N <= 1024).
  EXPECT_TRUE(linear_null_by_gram(1000, 128, 128));
  EXPECT_TRUE(linear_null_by_gram(500, 128, 64));
  EXPECT_FALSE(linear_null_by_gram(1000, 64, 128));
  EXPECT_FALSE(linear_null_by_gram(1000, 32, 64));
  EXPECT_TRUE(linear_null_by_gram(1024, 512, 512));
  EXPECT_FALSE(linear_null_by_gram(1025, 512, 512));
}

TEST(Null, FastEqualsSlowPerLayerPairAndLayerMax) {
  // Gaussian features with default preprocessing, where sums round: the fast
  // null equals the score of the relabelled representation (same inputs,
  // same_inputs_tolerance); against the recomputation from the permuted
  // features, the lists agree within the similarity bound, the kNN metrics
  // exactly wherever the lists do, and linear CKA within the bound carried
  // through (cka_recompute_bound). Every metric's recomputation is also
  // checked to the bit on exact arithmetic (FastEqualsSlowOnExactArithmetic).
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
  std::vector<double> worst(specs.size(), 0.0), worst_pair(specs.size(), 0.0),
      worst_gram(specs.size(), 0.0);
  for (int orient = 0; orient < 2; ++orient) {
    const auto& x = orient == 0 ? a : b;
    const auto& y = orient == 0 ? b : a;
    const auto& raw_y = orient == 0 ? raw_b : raw_a;
    PairNull pair_null(x, y, specs, cpu_backend(), LinearNullPath::kCross);
    PairNull gram_null(x, y, specs, cpu_backend(), LinearNullPath::kGram);
    for (std::uint64_t t = 0; t < 6; ++t) {
      const Permutation perm = prh::stats::seeded_permutation(4, t, n);
      std::vector<MatrixF> raw_py;
      for (const auto& r : raw_y) raw_py.push_back(permute_rows(r, perm));
      const auto slow_y = make_representations(raw_py, PreprocessOptions{}, specs, "Y'");
      const auto fast_pairs = pair_null.layer_pairs(perm);
      const auto gram_pairs = gram_null.layer_pairs(perm);
      ASSERT_EQ(fast_pairs.size(), x.size() * y.size());
      for (std::size_t l = 0; l < x.size(); ++l)
        for (std::size_t m = 0; m < y.size(); ++m) {
          const std::string where = "orientation " + std::to_string(orient) + ", layers " +
                                    std::to_string(l) + "," + std::to_string(m) + ", perm " +
                                    std::to_string(t);
          const auto py = permute(y[m], perm);
          const bool same_lists =
              expect_lists_within_rounding(*py.neighbors, *slow_y[m].neighbors, slow_y[m].x, where)
                  .empty();
          const auto relabelled = score_layer_pair(x[l], py, specs);
          const auto slow = score_layer_pair(x[l], slow_y[m], specs);
          const auto& fast = fast_pairs[l * y.size() + m];
          const auto& gram = gram_pairs[l * y.size() + m];
          // The Gram path: the other scores are the cross path's, bit for
          // bit; the linear ones within the two paths' rounding of c2.
          const LinearMoments& mx = *x[l].moments;
          const LinearMoments& my = *y[m].moments;
          const double dc2 =
              linear_paths_c2_bound(mx.centred, permute_rows(my.centred, perm)) * 1.01;
          const double dn = static_cast<double>(n);
          for (std::size_t s = 0; s < specs.size(); ++s) {
            const auto& sp = specs[s];
            double tol = 0;
            if (sp.kind == MetricKind::Cka)
              tol = dc2 / std::sqrt(mx.hsic_b_self * my.hsic_b_self);
            else if (sp.kind == MetricKind::UnbiasedCka)
              tol = dc2 / (dn * (dn - 3)) / std::sqrt(mx.hsic_u_self * my.hsic_u_self);
            EXPECT_NEAR(gram[s], fast[s], tol) << sp.name() << " Gram path, " << where;
            worst_gram[s] = std::max(worst_gram[s], std::fabs(gram[s] - fast[s]));
          }
          for (std::size_t s = 0; s < specs.size(); ++s) {
            const auto& sp = specs[s];
            EXPECT_NEAR(fast[s], relabelled[s], same_inputs_tolerance(sp))
                << sp.name() << " PairNull, " << where;
            worst_pair[s] = std::max(worst_pair[s], std::fabs(fast[s] - relabelled[s]));
            worst[s] = std::max(worst[s], std::fabs(relabelled[s] - slow[s]));
            if (sp.uses_knn() && sp.kind != MetricKind::Cknna && same_lists) {
              EXPECT_EQ(relabelled[s], slow[s]) << sp.name() << " " << where;
            }
            if (sp.kind == MetricKind::Cka) {
              EXPECT_LE(std::fabs(relabelled[s] - slow[s]),
                        cka_recompute_bound(x[l].x, slow_y[m].x, slow[s]))
                  << sp.name() << " " << where;
            }
          }
        }
      const auto fast_max = pair_null.layer_max(perm);
      const auto once_max = null_layer_max(x, y, specs, perm);
      for (std::size_t s = 0; s < specs.size(); ++s)
        EXPECT_EQ(fast_max[s], once_max[s]) << specs[s].name();
    }
  }
  for (std::size_t s = 0; s < specs.size(); ++s)
    std::printf(
        "[ Null ] %-24s largest |relabelled - recomputed| = %.3g, |PairNull - relabelled| = %.3g, "
        "|Gram path - cross path| = %.3g\n",
        specs[s].name().c_str(), worst[s], worst_pair[s], worst_gram[s]);
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
    EXPECT_NEAR(fast[s], observed[s].score, same_inputs_tolerance(specs[s])) << specs[s].name();
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
    // mutual_knn of identical features is exactly 1; svcca is 1 up to the
    // float32 rounding of its chunked products (an approximate bound of
    // cca_dim x 2 gamma(256), as in same_inputs_tolerance); the CKA
    // ratios (cka, unbiased_cka, cknna) add 1e-6 to their denominator
    // (metrics.md), so their self score, and hence the calibrated one, is
    // 1 - O(1e-6 / HSIC): measured down to 0.99994 for cknna at k = 5, N = 80.
    const bool ratio = specs[s].kind == MetricKind::Cka ||
                       specs[s].kind == MetricKind::UnbiasedCka ||
                       specs[s].kind == MetricKind::Cknna;
    if (ratio)
      EXPECT_NEAR(c.calibrated, 1.0, 1e-3) << specs[s].name();
    else if (specs[s].kind == MetricKind::Svcca)
      EXPECT_NEAR(c.calibrated, 1.0, same_inputs_tolerance(specs[s])) << specs[s].name();
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
