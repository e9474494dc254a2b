#pragma once
// The four neighbour-list metrics of metrics.md. Each takes the lists of A
// and B (which may hold more than k neighbours: the first k are used).

#include "prh/metrics/knn.hpp"

namespace prh::metrics {

// (1/N) sum_i |N_A(i) ∩ N_B(i)| / k
double mutual_knn(const NeighborLists& a, const NeighborLists& b, int k);

// (1/N) sum_i 1[i ∈ ∪_{j ∈ N_B(i)} N_A(j)]  (not symmetric)
double cycle_knn(const NeighborLists& a, const NeighborLists& b, int k);

// (1/N) sum_i LCS(N_A(i), N_B(i)) / k
double lcs_knn(const NeighborLists& a, const NeighborLists& b, int k);

// 1 - (1/N) sum_i Lev(N_A(i), N_B(i)) / k
double edit_distance_knn(const NeighborLists& a, const NeighborLists& b, int k);

}  // namespace prh::metrics
