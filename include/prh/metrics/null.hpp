#pragma once
// Fast permutation nulls (issue 12). A null score is the score of a pair
// after the rows (images) of model B are shuffled, B'_i = B_{perm[i]}, so that
// the two models no longer see the same image in the same row. A permutation
// only relabels: B's prepared Representation is relabelled, never recomputed.
//
//   neighbour lists  N_B'(i) = perm^-1(N_B(perm(i))), same order, same
//                    similarities: O(N k), no kNN search;
//   moments          rows of the centred features, of |xc_i|^2 and of
//                    xc_i . sum permuted (O(N D)); Xc^T Xc, the column sums
//                    and the self HSIC terms are invariant, kept as they are;
//   SVCCA bases      the map w (U = Xc w) is invariant: U' = P U;
//   cknna self term  invariant (the masked kernel is relabelled), kept.
//
// The scores then go through the normal code (score_layer_pair,
// compare_models), so a null score is the score prh compare would give on
// the permuted features, up to the rounding of the sums listed in
// docs/calibration.md. Only linear kernels: an RBF kernel's null
// would need the N x N Gram kept per layer (not done; a clear error).

#include <cstdint>
#include <memory>
#include <vector>

#include "prh/metrics/engine.hpp"
#include "prh/metrics/representation.hpp"

namespace prh::metrics {

// perm[i] = the row of B that becomes row i of B' (a permutation of 0..N-1).
using Permutation = std::vector<std::int32_t>;

// The lists of B' = P B: row i is row perm[i] of b, its indices mapped by inv
// (inv = the inverse of perm).
NeighborLists relabel(const NeighborLists& b, const Permutation& perm, const Permutation& inv);

// B's representation as it would be prepared from the permuted features, for
// the parts the metrics read (neighbour lists, moments, SVCCA bases, cknna
// self terms). x is left empty: the null of an RBF kernel is not supported.
Representation permute(const Representation& b, const Permutation& perm);

// The null of one model pair (A, B): everything a permutation of B's rows
// cannot change is computed once in the constructor, so that each
// permutation costs (per layer pair):
//
//   mutual_knn, cknna (every k at once)  O(N kmax): one pass over the hits of
//       A's lists against B's relabelled lists; a hit (i, j) at list positions
//       (ca, cb) is in the mask of every k > max(ca, cb); the reverse entry
//       (j, i) is found through precomputed reverse positions of A and of B
//       (invariant under relabelling), so HSIC's transpose term needs no
//       search;
//   cycle_knn   O(N k) (A's reverse lists kept); lcs_knn,
//       edit_distance_knn   O(N k) relabelling plus the sequence comparison;
//   cka, unbiased_cka (linear)  ||Xc_A^T P Xc_B||_F^2, which is all the
//       estimators need beyond B's relabelled row terms: either the cross
//       product, O(N D_A D_B), or (the Gram path, linear_null_by_gram) the
//       trace of K P L P^T with the row Gram matrices K = Xc_A Xc_A^T and
//       L = Xc_B Xc_B^T computed once per layer (memoised in the
//       Representation, float32: 4 N^2 bytes each), O(N^2) per permutation;
//   svcca       U_A^T P U_B with the cached bases U = Xc w, O(N cca_dim^2).
//
// Scores equal those of score_layer_pair on permute(b, perm) (the kNN
// metrics exactly, the rest to rounding; docs/calibration.md). Holds
// references to a, b and backend (which computes the linear kernels' cross
// products): they must outlive it. Not thread-safe (scratch buffers are
// reused across calls).
// The Gram path pays when D_A D_B > kGramNullCrossover * N: per permutation
// the cross product costs N D_A D_B BLAS multiply-adds (about 35 G/s on one
// core of the AMD EPYC measured), the trace N^2 / 2 gathered ones (about
// 0.47 ns each while K and L stay in cache). Measured with prh-bench-null
// (linear/cross against linear/gram): equal cost near D_A D_B = 8 N at
// N = 500 and 1000; at N = 2000 the two 16 MB matrices fall out of cache and
// the trace costs 1.4 ns per entry, so the path is taken up to
// kGramNullMaxRows rows only, and only on the CPU backend (a GPU's cross
// product stays). Both paths give the same score up to the rounding of the
// sums (docs/calibration.md). A function of the shapes alone: deterministic.
inline constexpr double kGramNullCrossover = 10.0;
inline constexpr Index kGramNullMaxRows = 1024;
bool linear_null_by_gram(Index n, Index da, Index db);

// Which path PairNull takes for the linear kernels: kAuto (the rule above;
// what the calibrate stage uses), or one forced (tests, benchmarks).
enum class LinearNullPath { kAuto, kCross, kGram };

class PairNull {
 public:
  PairNull(const std::vector<Representation>& a, const std::vector<Representation>& b,
           std::vector<MetricSpec> specs, const Backend& backend = cpu_backend(),
           LinearNullPath linear_path = LinearNullPath::kAuto);
  ~PairNull();
  PairNull(const PairNull&) = delete;
  PairNull& operator=(const PairNull&) = delete;

  // The layer maximum of every configuration for (A, P B), as null_layer_max.
  std::vector<double> layer_max(const Permutation& perm);
  // The scores of every layer pair (l, m), at [l * layers(B) + m][spec].
  std::vector<std::vector<double>> layer_pairs(const Permutation& perm);

 private:
  struct LayerPair;
  std::vector<MetricSpec> specs_;
  std::vector<std::unique_ptr<LayerPair>> pairs_;
  Permutation inv_;
};

// Throws InputError naming the configuration when its null cannot be computed
// from relabelled parts (cka / unbiased_cka with kernel = rbf).
void check_calibratable(const std::vector<MetricSpec>& specs);

// The layer maximum of every configuration for (A, P B): every layer of B
// permuted by the same perm, the maximum over all layer pairs taken for this
// permutation (engine.hpp: compare_models). NaN where no layer pair gave a
// number. One PairNull per call: to score many permutations of one pair,
// build a PairNull once.
std::vector<double> null_layer_max(const std::vector<Representation>& a,
                                   const std::vector<Representation>& b,
                                   const std::vector<MetricSpec>& specs, const Permutation& perm);

}  // namespace prh::metrics
