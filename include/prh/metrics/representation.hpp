#pragma once
// One layer of one model on one image set, preprocessed, with everything the
// metrics derive from it alone: neighbour lists (for the largest k needed),
// the moments of the column-centred features (linear CKA, unbiased CKA,
// SVCCA) and SVCCA bases. Computed once and shared by every pair and every
// metric configuration that uses them.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prh/metrics/backend.hpp"
#include "prh/metrics/cknna.hpp"
#include "prh/metrics/knn.hpp"
#include "prh/metrics/matrix.hpp"
#include "prh/metrics/registry.hpp"

namespace prh::metrics {

// What a set of metric configurations needs from each representation.
struct Requirements {
  int max_k = 0;                // neighbour lists of this many neighbours (0: none)
  bool moments = false;         // centred features and their Gram matrix
  std::vector<int> svcca_dims;  // SVCCA bases of these sizes

  static Requirements of(const std::vector<MetricSpec>& specs);
};

// Moments of the column-centred features Xc = X - mean(X).
struct LinearMoments {
  MatrixF centred;         // Xc [N, D]
  MatrixD gram;            // Xc^T Xc [D, D], double-accumulated
  VectorD sq_norms;        // |xc_i|^2 [N]
  VectorD col_sum;         // sum_i xc_i [D] (zero up to rounding)
  VectorD row_dot;         // xc_i . col_sum [N]
  double hsic_b_self = 0;  // HSIC_b(K, K) = ||Xc^T Xc||_F^2
  double hsic_u_self = 0;  // HSIC_u(K, K)
};

// Top cca_dim left singular vectors of the standardised features, as a map:
// U = Xc * w, with w = S V Sigma^-1 [D, cca_dim].
struct SvccaBasis {
  MatrixD w;
  std::string problem;  // non-empty when the basis is not defined (rank too low)
};

struct Representation {
  MatrixF x;  // preprocessed features [N, D]
  std::optional<NeighborLists> neighbors;
  std::optional<LinearMoments> moments;
  std::map<int, SvccaBasis> svcca;
  // Memo of cknna_self(neighbors, k) by k, filled as pairs are scored (a
  // cache of a pure function of this representation, hence mutable).
  mutable std::map<int, double> cknna_self;
  // Memo of column_ordered(*neighbors, k) by k (cknna.hpp): made when a pair
  // with this representation on its first side is scored, reused by the
  // held model's every pair.
  mutable std::map<int, std::shared_ptr<const ColumnOrderedLists>> neighbors_by_column;
  // Memo of Xc Xc^T [N, N] (row_gram of moments->centred), filled by the
  // linear-kernel permutation null when it takes the Gram path (null.hpp).
  mutable std::shared_ptr<const MatrixF> centred_rows_gram;

  Index n() const { return x.rows(); }
  Index d() const { return x.cols(); }
  // cknna_self(*neighbors, k), memoised in cknna_self.
  double cknna_self_of(int k) const;
  // column_ordered(*neighbors, k), memoised in neighbors_by_column.
  const ColumnOrderedLists& by_column(int k) const;
  // Xc Xc^T, memoised in centred_rows_gram (needs moments).
  const MatrixF& centred_gram() const;
};

// The moments of x; `gram` (Xc^T Xc, from an earlier make_moments on the same
// x) skips the O(N D^2) product (else done by `backend`), the rest is O(N D).
LinearMoments make_moments(const MatrixF& x, const MatrixD* gram = nullptr,
                           const Backend& backend = cpu_backend());

// Computes whatever `req` asks for and `rep` lacks; the kNN search and the
// Gram matrix by `backend`.
void prepare(Representation& rep, const Requirements& req, const Backend& backend = cpu_backend());

// The HSIC estimators from centred-feature moments: HSIC_b = ||C||_F^2 and
// HSIC_u per Song et al. eq. 5, with C = Xc_A^T Xc_B (see hsic.cpp).
double hsic_unbiased_linear(const LinearMoments& a, const LinearMoments& b, double cross_sq_frob);

}  // namespace prh::metrics
