#pragma once
// Seeded permutations, defined down to the bit so that every rank, every
// platform and every standard library draws the same ones.
//
// The generator is std::mt19937_64 (its output sequence is fixed by the C++
// standard); integers below n come from its raw 64-bit outputs by rejection
// (values >= the largest multiple of n below 2^64 are redrawn, so no residue
// is favoured); a permutation is the Fisher-Yates shuffle of the identity
// that swaps position i = n-1, ..., 1 with j = uniform_below(i + 1). No
// std::*_distribution is used: their algorithms differ between libraries.

#include <cstdint>
#include <random>
#include <vector>

#include "prh/core/splitmix.hpp"

namespace prh::stats {

// splitmix64 of x: a fixed bijection of 64-bit integers that spreads nearby
// seeds apart (Steele, Lea, Flood 2014); one definition, core/splitmix.hpp.
using prh::splitmix64;

// The seed of stream `stream` of the run seeded `seed`:
// splitmix64(seed ^ splitmix64(stream + 1)). Streams are independent
// draws that any rank can make without the others.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream);

// Uniform integer in [0, n) from rng by rejection (n >= 1).
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n);

// Fisher-Yates permutation of 0..n-1 from rng (see the header comment).
std::vector<std::int32_t> random_permutation(std::mt19937_64& rng, std::int64_t n);

// Permutation number `index` of the run seeded `seed`: random_permutation of
// an mt19937_64 seeded with stream_seed(seed, index). The same on any rank.
std::vector<std::int32_t> seeded_permutation(std::uint64_t seed, std::uint64_t index,
                                             std::int64_t n);

// inverse[perm[i]] = i. Throws InputError unless perm is a permutation of 0..n-1.
std::vector<std::int32_t> inverse_permutation(const std::vector<std::int32_t>& perm);

}  // namespace prh::stats
