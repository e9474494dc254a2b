#pragma once
// splitmix64 (Vigna's splitmix64.c, one step from state x): a fixed
// bijection of 64-bit integers that spreads nearby inputs over the whole
// range; prh's seeds of streams, images and permutations are made with it
// (stats/permutation.hpp, data's noise and subsample sources).

#include <cstdint>

namespace prh {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace prh
