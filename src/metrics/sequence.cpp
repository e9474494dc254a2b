#include "prh/metrics/sequence.hpp"

#include <algorithm>
#include <utility>

namespace prh::metrics {

int lcs_distinct(const std::int32_t* a, const std::int32_t* b, int k,
                 std::vector<std::int32_t>& scratch) {
  // Sorted (value, position in a) pairs, packed in one int64 for the sort.
  std::vector<std::int64_t> sorted_a(static_cast<std::size_t>(k));
  for (int p = 0; p < k; ++p)
    sorted_a[static_cast<std::size_t>(p)] = (static_cast<std::int64_t>(a[p]) << 32) | p;
  std::sort(sorted_a.begin(), sorted_a.end());
  // tails[len-1] = smallest possible last position of an increasing run of length len.
  scratch.clear();
  for (int q = 0; q < k; ++q) {
    const std::int64_t key = static_cast<std::int64_t>(b[q]) << 32;
    auto it = std::lower_bound(sorted_a.begin(), sorted_a.end(), key);
    if (it == sorted_a.end() || (*it >> 32) != b[q]) continue;
    const auto pos = static_cast<std::int32_t>(*it & 0xffffffff);
    auto t = std::lower_bound(scratch.begin(), scratch.end(), pos);
    if (t == scratch.end())
      scratch.push_back(pos);
    else
      *t = pos;
  }
  return static_cast<int>(scratch.size());
}

int levenshtein(const std::int32_t* a, const std::int32_t* b, int k, std::vector<int>& row) {
  row.resize(static_cast<std::size_t>(k) + 1);
  for (int j = 0; j <= k; ++j) row[static_cast<std::size_t>(j)] = j;
  for (int i = 1; i <= k; ++i) {
    int diag = row[0];  // D[i-1][j-1]
    row[0] = i;
    for (int j = 1; j <= k; ++j) {
      const int up = row[static_cast<std::size_t>(j)];  // D[i-1][j]
      const int sub = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
      const int best = std::min({sub, up + 1, row[static_cast<std::size_t>(j) - 1] + 1});
      diag = up;
      row[static_cast<std::size_t>(j)] = best;
    }
  }
  return row[static_cast<std::size_t>(k)];
}

}  // namespace prh::metrics
