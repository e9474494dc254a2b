#pragma once
// CKNNA (metrics.md): unbiased HSIC of the kernels masked to mutual
// neighbours, computed from the neighbour lists alone: every HSIC term is a
// sum over at most N*k non-zero entries.

#include "prh/metrics/knn.hpp"

namespace prh::metrics {

// sim(K,L) / (sqrt(sim(K,K) sim(L,L)) + 1e-6), sim = HSIC_u of the masked
// kernels; NaN where the normaliser's product is <= 0. Uses the similarities
// stored in the lists (the first k of each row). Needs k >= 2 and N >= 4.
double cknna(const NeighborLists& a, const NeighborLists& b, int k);

// The same with sim(K,K) = self_a and sim(L,L) = self_b given (from
// cknna_self on the same lists and k): each model's self term is computed
// once and reused by all its pairs.
double cknna(const NeighborLists& a, const NeighborLists& b, int k, double self_a, double self_b);

// sim(K,K) alone: HSIC_u(M_K o K, M_K o K) with M_K the top-k mask of a.
double cknna_self(const NeighborLists& a, int k);

}  // namespace prh::metrics
