#pragma once
// Sequence comparisons of two ordered neighbour lists.

#include <cstdint>
#include <vector>

namespace prh::metrics {

// Length of the longest common subsequence of a and b. Neighbour lists hold
// distinct indices, so this maps b onto positions in a and takes the longest
// strictly increasing subsequence: O(k log k) instead of the O(k^2) DP.
// Precondition: the elements of a are distinct (those of b too).
int lcs_distinct(const std::int32_t* a, const std::int32_t* b, int k,
                 std::vector<std::int32_t>& scratch);

// Levenshtein distance (unit insert/delete/substitute) between a and b, both
// of length k: the classic DP with one rolling row.
int levenshtein(const std::int32_t* a, const std::int32_t* b, int k, std::vector<int>& scratch);

}  // namespace prh::metrics
