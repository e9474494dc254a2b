#pragma once
// CKNNA (metrics.md): unbiased HSIC of the kernels masked to mutual
// neighbours, computed from the neighbour lists alone: every HSIC term is a
// sum over at most N*k non-zero entries.

#include <cstdint>
#include <vector>

#include "prh/metrics/knn.hpp"

namespace prh::metrics {

// The first k neighbours of every row of some NeighborLists, each row in
// increasing column order with its similarities: the rows of CKNNA's masked
// kernel. Made once per representation and k (Representation::by_column),
// so that each pair's mask is one pass over the two lists, with no sort.
struct ColumnOrderedLists {
  Index n = 0;
  int k = 0;
  std::vector<std::int32_t> col;  // [n * k], increasing within a row
  std::vector<float> sim;         // [n * k], the similarity of each col
};

// The top-k lists of `a` (its first k neighbours), rows in column order.
ColumnOrderedLists column_ordered(const NeighborLists& a, int k);

// sim(K,L) / (sqrt(sim(K,K) sim(L,L)) + 1e-6), sim = HSIC_u of the masked
// kernels; NaN where the normaliser's product is <= 0. Uses the similarities
// stored in the lists (the first k of each row). Needs k >= 2 and N >= 4.
double cknna(const NeighborLists& a, const NeighborLists& b, int k);

// The same with sim(K,K) = self_a and sim(L,L) = self_b given (from
// cknna_self on the same lists and k): each model's self term is computed
// once and reused by all its pairs.
double cknna(const NeighborLists& a, const NeighborLists& b, int k, double self_a, double self_b);

// The same with a's lists in column order (column_ordered(a, k)): the form
// the pair scorer uses, the lists made once per representation. The same
// number, bit for bit, as the forms above.
double cknna(const ColumnOrderedLists& a, const NeighborLists& b, int k, double self_a,
             double self_b);

// sim(K,K) alone: HSIC_u(M_K o K, M_K o K) with M_K the top-k mask of a.
double cknna_self(const NeighborLists& a, int k);
double cknna_self(const ColumnOrderedLists& a);

}  // namespace prh::metrics
