#pragma once
// SVCCA, exact and deterministic (metrics.md): standardise columns, take the
// top cca_dim left singular vectors of each input, and average the canonical
// correlations, which are the singular values of U_A^T U_B.

#include "prh/metrics/representation.hpp"

namespace prh::metrics {

// The basis U = Xc * w of the top cca_dim left singular vectors of the
// standardised features, from the eigenvectors of their D x D Gram matrix
// (LAPACK dsyevr, only the eigenpairs needed).
SvccaBasis svcca_basis(const LinearMoments& m, int cca_dim);

// Mean singular value of U_A^T U_B = w_A^T C w_B, C = Xc_A^T Xc_B.
// NaN when a basis is undefined (features of rank < cca_dim).
double svcca(const SvccaBasis& a, const SvccaBasis& b, const MatrixD& cross);

}  // namespace prh::metrics
