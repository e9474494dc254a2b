#include "prh/stats/permutation.hpp"

#include <limits>
#include <numeric>

#include "prh/core/error.hpp"

namespace prh::stats {

std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) {
  return splitmix64(seed ^ splitmix64(stream + 1));
}

std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  PRH_ASSERT(n >= 1, "uniform_below: n must be >= 1");
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t rem = (kMax % n + 1) % n;  // 2^64 mod n
  std::uint64_t x = rng();
  while (rem != 0 && x > kMax - rem) x = rng();  // keep [0, 2^64 - rem): a multiple of n
  return x % n;
}

std::vector<std::int32_t> random_permutation(std::mt19937_64& rng, std::int64_t n) {
  PRH_CHECK_INPUT(n >= 0 && n <= std::numeric_limits<std::int32_t>::max(),
                  "cannot permute {} items", n);
  std::vector<std::int32_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (std::int64_t i = n - 1; i >= 1; --i) {
    const auto j = uniform_below(rng, static_cast<std::uint64_t>(i) + 1);
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

std::vector<std::int32_t> seeded_permutation(std::uint64_t seed, std::uint64_t index,
                                             std::int64_t n) {
  std::mt19937_64 rng(stream_seed(seed, index));
  return random_permutation(rng, n);
}

std::vector<std::int32_t> inverse_permutation(const std::vector<std::int32_t>& perm) {
  std::vector<std::int32_t> inv(perm.size(), -1);
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const auto v = perm[i];
    PRH_CHECK_INPUT(
        v >= 0 && static_cast<std::size_t>(v) < perm.size() && inv[static_cast<std::size_t>(v)] < 0,
        "not a permutation of 0..{}: entry {} is {}", perm.size() - 1, i, v);
    inv[static_cast<std::size_t>(v)] = static_cast<std::int32_t>(i);
  }
  return inv;
}

}  // namespace prh::stats
