#include "prh/metrics/knn_metrics.hpp"

#include <algorithm>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/metrics/sequence.hpp"

namespace prh::metrics {

namespace {

void check_lists(const NeighborLists& a, const NeighborLists& b, int k, const char* metric) {
  PRH_CHECK_INPUT(a.n == b.n, "{}: the two feature sets have different N ({} vs {})", metric, a.n,
                  b.n);
  check_k(k, a.n, metric);
  PRH_ASSERT(k <= a.k && k <= b.k, "{}: lists hold {} and {} neighbours, {} needed", metric, a.k,
             b.k, k);
}

}  // namespace

double mutual_knn(const NeighborLists& a, const NeighborLists& b, int k) {
  check_lists(a, b, k, "mutual_knn");
  // mark[j] == i + 1 iff j ∈ N_A(i): one pass over each list, O(N) memory.
  std::vector<Index> mark(static_cast<std::size_t>(a.n), 0);
  std::int64_t common = 0;
  for (Index i = 0; i < a.n; ++i) {
    const auto* ra = a.row(i);
    const auto* rb = b.row(i);
    for (int c = 0; c < k; ++c) mark[static_cast<std::size_t>(ra[c])] = i + 1;
    for (int c = 0; c < k; ++c) common += mark[static_cast<std::size_t>(rb[c])] == i + 1;
  }
  return static_cast<double>(common) / k / static_cast<double>(a.n);
}

double cycle_knn(const NeighborLists& a, const NeighborLists& b, int k) {
  check_lists(a, b, k, "cycle_knn");
  // Sorted top-k rows of A for membership tests.
  std::vector<std::int32_t> sorted(static_cast<std::size_t>(a.n * k));
  for (Index i = 0; i < a.n; ++i) {
    auto* dst = sorted.data() + i * k;
    std::copy_n(a.row(i), k, dst);
    std::sort(dst, dst + k);
  }
  Index hits = 0;
  for (Index i = 0; i < a.n; ++i) {
    const auto* rb = b.row(i);
    for (int c = 0; c < k; ++c) {
      const auto* row_j = sorted.data() + static_cast<Index>(rb[c]) * k;
      if (std::binary_search(row_j, row_j + k, static_cast<std::int32_t>(i))) {
        ++hits;
        break;
      }
    }
  }
  return static_cast<double>(hits) / static_cast<double>(a.n);
}

double lcs_knn(const NeighborLists& a, const NeighborLists& b, int k) {
  check_lists(a, b, k, "lcs_knn");
  // Integer sums: exact, so the thread count cannot change the result.
  std::int64_t total = 0;
#pragma omp parallel reduction(+ : total)
  {
    std::vector<std::int32_t> scratch;
#pragma omp for schedule(static)
    for (Index i = 0; i < a.n; ++i) total += lcs_distinct(a.row(i), b.row(i), k, scratch);
  }
  return static_cast<double>(total) / static_cast<double>(k) / static_cast<double>(a.n);
}

double edit_distance_knn(const NeighborLists& a, const NeighborLists& b, int k) {
  check_lists(a, b, k, "edit_distance_knn");
  std::int64_t total = 0;
#pragma omp parallel reduction(+ : total)
  {
    std::vector<int> scratch;
#pragma omp for schedule(static)
    for (Index i = 0; i < a.n; ++i) total += levenshtein(a.row(i), b.row(i), k, scratch);
  }
  return 1.0 - static_cast<double>(total) / static_cast<double>(k) / static_cast<double>(a.n);
}

}  // namespace prh::metrics
