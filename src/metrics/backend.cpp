#include "prh/metrics/backend.hpp"

#include "prh/metrics/hsic.hpp"
#include "prh/metrics/svcca.hpp"
#include "prh/metrics/tiles.hpp"

namespace prh::metrics {

namespace {

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  NeighborLists knn(const MatrixF& x, int k) const override { return metrics::knn(x, k); }
  MatrixD self_product(const MatrixF& x) const override { return metrics::self_product(x); }
  MatrixD cross_product(const MatrixF& x, const MatrixF& y) const override {
    return metrics::cross_product(x, y);
  }
  HsicSet hsic_rbf(const MatrixF& a, const MatrixF& b, double sigma) const override {
    return metrics::hsic_rbf(a, b, sigma);
  }
  Eigenpairs top_eigenpairs(const MatrixD& g, int count) const override {
    return metrics::top_eigenpairs(g, count);
  }
};

}  // namespace

const Backend& cpu_backend() {
  static const CpuBackend cpu;
  return cpu;
}

}  // namespace prh::metrics
