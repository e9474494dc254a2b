#pragma once
// The heavy steps of the metric engine behind one interface, so that they can
// run elsewhere than on the CPU (docs/gpu.md): the kNN search (Gram tiles and
// top-k), the double-accumulated feature products behind linear CKA, unbiased
// CKA and SVCCA, the RBF-kernel HSIC pass, and SVCCA's eigenproblem (O(D^3)
// per model and layer). Everything else (preprocessing, the kNN metrics on
// the lists, cknna's sparse HSIC, SVCCA's small products) is O(N k + N D) or
// smaller and stays on the host.
//
// The metrics layer stays torch-free: cpu_backend() is today's Eigen/BLAS
// code, unchanged; a LibTorch implementation lives in prh_accel
// (include/prh/accel/torch_backend.hpp), linked into prh-models only. The
// backend is passed explicitly (engine.hpp, representation.hpp, svcca.hpp,
// null.hpp), defaulting to cpu_backend(): no process-wide setting, so one
// process can compare two backends (tests/unit/test_accel.cpp).

#include <string>
#include <vector>

#include "prh/metrics/knn.hpp"
#include "prh/metrics/matrix.hpp"

namespace prh::metrics {

// The `count` largest eigenpairs of a symmetric matrix: values ascending,
// vectors [D, count] with column c the (unit, sign arbitrary) eigenvector of
// values[c].
struct Eigenpairs {
  std::vector<double> values;
  MatrixD vectors;
};

// The six HSIC values of a pair under one kernel.
struct HsicSet {
  double biased_kl = 0, biased_kk = 0, biased_ll = 0;
  double unbiased_kl = 0, unbiased_kk = 0, unbiased_ll = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // What runs the steps, for logs and results: "cpu", "cuda:0", "torch:cpu".
  virtual std::string name() const = 0;
  // Top-k neighbour lists of the rows of x (knn.hpp: self excluded, by
  // decreasing similarity, ties to the lower index).
  virtual NeighborLists knn(const MatrixF& x, int k) const = 0;
  // X^T X [D, D] (symmetric), float products accumulated in double.
  virtual MatrixD self_product(const MatrixF& x) const = 0;
  // X^T Y [Dx, Dy] over the rows of X and Y, likewise.
  virtual MatrixD cross_product(const MatrixF& x, const MatrixF& y) const = 0;
  // HSIC of the RBF kernels of a and b (hsic.hpp: hsic_rbf).
  virtual HsicSet hsic_rbf(const MatrixF& a, const MatrixF& b, double sigma) const = 0;
  // The count largest eigenpairs of the symmetric g [D, D] (SVCCA's bases,
  // O(D^3)); only g's lower triangle (row-major) is read.
  virtual Eigenpairs top_eigenpairs(const MatrixD& g, int count) const = 0;
};

// The CPU implementation: knn(), self_product(), cross_product(), hsic_rbf()
// and top_eigenpairs() of this layer, bit for bit.
const Backend& cpu_backend();

}  // namespace prh::metrics
