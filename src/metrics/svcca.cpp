#include "prh/metrics/svcca.hpp"

#include <cmath>
#include <vector>

#include <Eigen/SVD>

#include "prh/core/error.hpp"

// LAPACK's symmetric eigensolver (OpenBLAS ships it). Declared here rather
// than through lapacke.h, which Debian's OpenBLAS packages do not install.
extern "C" void dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n,
                        double* a, const int* lda, const double* vl, const double* vu,
                        const int* il, const int* iu, const double* abstol, int* m, double* w,
                        double* z, const int* ldz, int* isuppz, double* work, const int* lwork,
                        int* iwork, const int* liwork, int* info);

namespace prh::metrics {

namespace {

// Eigenvalues below this fraction of the largest count as zero: the basis of
// such features is not defined. The Gram matrix is accumulated from float
// products, whose rounding puts a noise floor near 1e-7 of the largest
// eigenvalue (measured on rank-2 features); 1e-5 (singular values below 0.3%
// of the largest) stays well clear of it.
constexpr double kRankTolerance = 1e-5;

}  // namespace

Eigenpairs top_eigenpairs(const MatrixD& g, int count) {
  const Index d = g.rows();
  PRH_ASSERT(g.cols() == d && count >= 1 && count <= d, "top_eigenpairs: {} of a {}x{} matrix",
             count, g.rows(), g.cols());
  // Row-major storage read as column-major: LAPACK's upper triangle is the
  // row-major lower one.
  MatrixD gs = g;
  const int dn = static_cast<int>(d), il = static_cast<int>(d) - count + 1, iu = dn;
  const double zero = 0.0, abstol = 0.0;
  int found = 0, info = 0;
  std::vector<double> w(static_cast<std::size_t>(d)), z(static_cast<std::size_t>(d) * count);
  std::vector<int> isuppz(2 * static_cast<std::size_t>(count));
  int lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  dsyevr_("V", "I", "U", &dn, gs.data(), &dn, &zero, &zero, &il, &iu, &abstol, &found, w.data(),
          z.data(), &dn, isuppz.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
  PRH_ASSERT(info == 0, "dsyevr workspace query failed (info = {})", info);
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevr_("V", "I", "U", &dn, gs.data(), &dn, &zero, &zero, &il, &iu, &abstol, &found, w.data(),
          z.data(), &dn, isuppz.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  PRH_ASSERT(info == 0 && found == count, "dsyevr failed (info = {}, found {} of {})", info, found,
             count);
  // z is column-major [d, count]; eigenvalues ascend.
  Eigenpairs e;
  e.values.assign(w.begin(), w.begin() + count);
  e.vectors.resize(d, count);
  for (int c = 0; c < count; ++c)
    for (Index j = 0; j < d; ++j)
      e.vectors(j, c) = z[static_cast<std::size_t>(c) * d + static_cast<std::size_t>(j)];
  return e;
}

SvccaBasis svcca_basis(const LinearMoments& m, int cca_dim, const Backend& backend) {
  const auto n = static_cast<Index>(m.sq_norms.size());
  const Index d = m.gram.rows();
  PRH_CHECK_INPUT(cca_dim >= 1 && cca_dim <= d && cca_dim <= n - 1,
                  "svcca: cca_dim = {} must be <= min(N-1, D) = {}", cca_dim, std::min(n - 1, d));
  // Standardisation S = diag(1 / (std_j + 1e-8)), std unbiased: std_j^2 = G_jj / (N-1).
  VectorD scale(d);
  for (Index j = 0; j < d; ++j)
    scale(j) = 1.0 / (std::sqrt(std::max(0.0, m.gram(j, j)) / static_cast<double>(n - 1)) + 1e-8);
  // Gram of the standardised features.
  const MatrixD gs = scale.asDiagonal() * m.gram * scale.asDiagonal();
  const Eigenpairs e = backend.top_eigenpairs(gs, cca_dim);
  const std::vector<double>& w = e.values;
  SvccaBasis basis;
  const double top = w[static_cast<std::size_t>(cca_dim) - 1];
  const double low = w[0];
  if (!(top > 0) || low <= kRankTolerance * top) {
    basis.problem = fmt::format(
        "the standardised features have fewer than cca_dim = {} non-zero singular values", cca_dim);
    return basis;
  }
  // Eigenvalues ascend. w = S V Lambda^-1/2.
  basis.w.resize(d, cca_dim);
  for (int c = 0; c < cca_dim; ++c) {
    const double inv_sigma = 1.0 / std::sqrt(w[static_cast<std::size_t>(c)]);
    for (Index j = 0; j < d; ++j) basis.w(j, c) = scale(j) * e.vectors(j, c) * inv_sigma;
  }
  return basis;
}

double svcca(const SvccaBasis& a, const SvccaBasis& b, const MatrixD& cross) {
  if (!a.problem.empty() || !b.problem.empty()) return std::nan("");
  PRH_ASSERT(a.w.cols() == b.w.cols(), "svcca: bases of different sizes");
  const MatrixD m = a.w.transpose() * cross * b.w;  // U_A^T U_B
  Eigen::JacobiSVD<MatrixD> svd(m);
  // Canonical correlations are cosines of principal angles: rounding can push
  // one a hair above 1.
  return svd.singularValues().cwiseMin(1.0).mean();
}

}  // namespace prh::metrics
