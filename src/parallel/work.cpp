#include "prh/parallel/work.hpp"

#include <algorithm>
#include <numeric>

namespace prh::parallel {

std::pair<std::size_t, std::size_t> weighted_share(const std::vector<double>& weights, int rank,
                                                   int ranks) {
  double total = 0;
  for (double w : weights) total += w;
  const std::size_t n = weights.size();
  std::size_t first = n, last = n;
  double start = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int owner = total > 0 ? std::min(ranks - 1, static_cast<int>(start * ranks / total))
                                : static_cast<int>(i * static_cast<std::size_t>(ranks) / n);
    if (owner == rank && first == n) first = i;
    if (owner > rank) {
      last = i;
      break;
    }
    start += weights[i];
  }
  if (first == n) return {n, n};
  return {first, last};
}

std::vector<std::size_t> balanced_share(const std::vector<double>& costs, int rank, int ranks) {
  std::vector<std::size_t> order(costs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(static_cast<std::size_t>(std::max(ranks, 1)), 0.0);
  std::vector<std::size_t> mine;
  for (std::size_t t : order) {
    const auto r =
        static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[r] += costs[t];
    if (static_cast<int>(r) == rank) mine.push_back(t);
  }
  return mine;
}

}  // namespace prh::parallel
