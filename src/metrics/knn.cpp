#include "prh/metrics/knn.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <mutex>

#include "prh/core/error.hpp"
#include "prh/metrics/tiles.hpp"

namespace prh::metrics {

void check_k(int k, Index n, const char* metric) {
  PRH_CHECK_INPUT(k >= 1 && k <= n - 1,
                  "{}: k must satisfy 1 <= k <= N-1 = {} (N = {} images), got k = {}", metric,
                  n - 1, n, k);
}

NeighborLists NeighborLists::prefix(int k2) const {
  PRH_ASSERT(k2 >= 1 && k2 <= k, "prefix {} of lists with k = {}", k2, k);
  if (k2 == k) return *this;
  NeighborLists out;
  out.n = n;
  out.k = k2;
  out.index.resize(static_cast<std::size_t>(n * k2));
  out.sim.resize(static_cast<std::size_t>(n * k2));
  for (Index i = 0; i < n; ++i) {
    std::copy_n(row(i), k2, out.index.data() + i * k2);
    std::copy_n(row_sim(i), k2, out.sim.data() + i * k2);
  }
  return out;
}

namespace {

// Per-row bounded heaps keeping the k best (sim desc, index asc) candidates.
// The root of each heap is its worst kept entry; thr[i] caches its similarity
// so most candidates are rejected by one comparison.
class TopK {
 public:
  TopK(Index n, int k)
      : n_(n),
        k_(k),
        sim_(static_cast<std::size_t>(n * k), -std::numeric_limits<float>::infinity()),
        idx_(static_cast<std::size_t>(n * k), std::numeric_limits<std::int32_t>::max()),
        thr_(static_cast<std::size_t>(n), -std::numeric_limits<float>::infinity()) {}

  // Offer candidate j with similarity s to row i.
  void push(Index i, float s, std::int32_t j) {
    if (s < thr_[static_cast<std::size_t>(i)]) return;
    float* hs = sim_.data() + i * k_;
    std::int32_t* hi = idx_.data() + i * k_;
    if (!better(s, j, hs[0], hi[0])) return;
    sift_down(hs, hi, s, j);
    thr_[static_cast<std::size_t>(i)] = hs[0];
  }

  NeighborLists finish() {
    NeighborLists out;
    out.n = n_;
    out.k = k_;
    out.index.resize(idx_.size());
    out.sim.resize(sim_.size());
    std::vector<std::pair<float, std::int32_t>> row(static_cast<std::size_t>(k_));
    for (Index i = 0; i < n_; ++i) {
      for (int c = 0; c < k_; ++c)
        row[static_cast<std::size_t>(c)] = {sim_[static_cast<std::size_t>(i * k_ + c)],
                                            idx_[static_cast<std::size_t>(i * k_ + c)]};
      std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) {
        return better(a.first, a.second, b.first, b.second);
      });
      for (int c = 0; c < k_; ++c) {
        PRH_ASSERT(row[static_cast<std::size_t>(c)].second < n_, "row {} has too few neighbours",
                   i);
        out.index[static_cast<std::size_t>(i * k_ + c)] = row[static_cast<std::size_t>(c)].second;
        out.sim[static_cast<std::size_t>(i * k_ + c)] = row[static_cast<std::size_t>(c)].first;
      }
    }
    return out;
  }

  // (s1, j1) ranks before (s2, j2): larger similarity, then lower index.
  static bool better(float s1, std::int32_t j1, float s2, std::int32_t j2) {
    return s1 > s2 || (s1 == s2 && j1 < j2);
  }

 private:
  // Replace the root with (s, j) and restore the heap (worst at the root).
  void sift_down(float* hs, std::int32_t* hi, float s, std::int32_t j) const {
    int pos = 0;
    for (;;) {
      int child = 2 * pos + 1;
      if (child >= k_) break;
      if (child + 1 < k_ && better(hs[child], hi[child], hs[child + 1], hi[child + 1])) ++child;
      if (!better(s, j, hs[child], hi[child])) break;  // (s, j) is worse than the worse child
      hs[pos] = hs[child];
      hi[pos] = hi[child];
      pos = child;
    }
    hs[pos] = s;
    hi[pos] = j;
  }

  Index n_;
  int k_;
  std::vector<float> sim_;
  std::vector<std::int32_t> idx_;
  std::vector<float> thr_;
};

}  // namespace

NeighborLists knn(const MatrixF& x, int k, Index tile) {
  check_k(k, x.rows(), "knn");
  PRH_CHECK_INPUT(x.rows() <= std::numeric_limits<std::int32_t>::max(), "too many rows: {}",
                  x.rows());
  if (tile <= 0) tile = gram_tile_for(x.rows());
  TopK heaps(x.rows(), k);
  // A tile feeds the heaps of its row block and of its column block: lock
  // both (lower block first, so no deadlock). Top-k under a total order does
  // not depend on the order candidates arrive in, so the result is the same
  // whatever the thread count.
  const TileGrid grid(x.rows(), tile);
  std::vector<std::mutex> block_lock(static_cast<std::size_t>(grid.blocks));
  for_each_gram_tile(
      x,
      [&](const GramTile& t) {
        std::unique_lock<std::mutex> li(block_lock[static_cast<std::size_t>(t.i0 / tile)]);
        std::unique_lock<std::mutex> lj;
        if (!t.diagonal())
          lj = std::unique_lock<std::mutex>(block_lock[static_cast<std::size_t>(t.j0 / tile)]);
        for (Index r = 0; r < t.ni; ++r) {
          const Index i = t.i0 + r;
          const float* row = t.data + r * t.nj;
          const Index c0 = t.diagonal() ? r + 1 : 0;
          for (Index c = c0; c < t.nj; ++c) {
            const Index j = t.j0 + c;
            const float s = row[c];
            heaps.push(i, s, static_cast<std::int32_t>(j));
            heaps.push(j, s, static_cast<std::int32_t>(i));
          }
        }
      },
      tile);
  return heaps.finish();
}

}  // namespace prh::metrics
