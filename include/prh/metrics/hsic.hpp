#pragma once
// CKA and unbiased CKA (metrics.md): ratio of HSIC estimates,
// HSIC(K,L) / (sqrt(HSIC(K,K) HSIC(L,L)) + 1e-6), NaN where the normaliser's
// product is <= 0. Linear kernel from feature-space moments (no N x N
// memory); RBF kernel from Gram tiles accumulated in double.

#include "prh/metrics/backend.hpp"
#include "prh/metrics/matrix.hpp"
#include "prh/metrics/representation.hpp"
#include "prh/metrics/tiles.hpp"

namespace prh::metrics {

inline constexpr double kCkaEpsilon = 1e-6;

// hsic_kl / (sqrt(hsic_kk * hsic_ll) + 1e-6), NaN when hsic_kk * hsic_ll <= 0.
double cka_ratio(double hsic_kl, double hsic_kk, double hsic_ll);

// HsicSet (the six HSIC values of a pair under one kernel): backend.hpp.

// Linear kernel, given the cross product C = Xc_A^T Xc_B of the centred features.
HsicSet hsic_linear(const LinearMoments& a, const LinearMoments& b, const MatrixD& cross);
// The same from c2 = ||C||_F^2 (what the permutation null's Gram path gives).
HsicSet hsic_linear(const LinearMoments& a, const LinearMoments& b, double c2);

// RBF kernel K_ij = exp(-|a_i - a_j|^2 / (2 sigma^2)) on the preprocessed features.
HsicSet hsic_rbf(const MatrixF& a, const MatrixF& b, double sigma, Index tile = 0);

// The last step of hsic_rbf, shared with other backends: the six HSIC values
// of two N x N kernels with unit diagonals from their off-diagonal sums
// (i != j): s_kl = sum K_ij L_ij, s_kk = sum K_ij^2, s_ll = sum L_ij^2, and
// the off-diagonal row sums rk_i = sum_j K_ij, rl_i = sum_j L_ij.
HsicSet hsic_from_sums(Index n, double s_kl, double s_kk, double s_ll, const VectorD& rk,
                       const VectorD& rl);

}  // namespace prh::metrics
