#pragma once
// Deterministic work assignment (no MPI calls): which items a rank takes.

#include <cstddef>
#include <utility>
#include <vector>

namespace prh::parallel {

// Contiguous slice [first, last) of items with the given weights for `rank`
// of `ranks`: item i belongs to the rank whose share of the total weight
// holds the start of item i. Every item belongs to exactly one rank; the
// same inputs give the same slices on every rank.
std::pair<std::size_t, std::size_t> weighted_share(const std::vector<double>& weights, int rank,
                                                   int ranks);

// Longest-processing-time assignment: items by decreasing cost (ties: lower
// index first), each to the least loaded rank (ties: lower rank). Returns
// the items of `rank`, in that order.
std::vector<std::size_t> balanced_share(const std::vector<double>& costs, int rank, int ranks);

}  // namespace prh::parallel
