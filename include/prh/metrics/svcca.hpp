#pragma once
// SVCCA, exact and deterministic (metrics.md): standardise columns, take the
// top cca_dim left singular vectors of each input, and average the canonical
// correlations, which are the singular values of U_A^T U_B.

#include "prh/metrics/backend.hpp"
#include "prh/metrics/representation.hpp"

namespace prh::metrics {

// The basis U = Xc * w of the top cca_dim left singular vectors of the
// standardised features, from the eigenvectors of their D x D Gram matrix
// (by `backend`; on the CPU LAPACK dsyevr, only the eigenpairs needed).
SvccaBasis svcca_basis(const LinearMoments& m, int cca_dim, const Backend& backend = cpu_backend());

// The count largest eigenpairs of the symmetric g (LAPACK dsyevr on its
// row-major lower triangle): the CPU backend's top_eigenpairs.
Eigenpairs top_eigenpairs(const MatrixD& g, int count);

// Mean singular value of U_A^T U_B = w_A^T C w_B, C = Xc_A^T Xc_B.
// NaN when a basis is undefined (features of rank < cca_dim).
double svcca(const SvccaBasis& a, const SvccaBasis& b, const MatrixD& cross);

}  // namespace prh::metrics
