#pragma once
// Mantel tests: is the correlation between two M x M score matrices, over the
// model pairs i < j, larger than the models' labels alone would give?
//
// Why not the p-value of correlate(). The M(M-1)/2 pairs share models (each
// model is in M-1 pairs), so they are not independent observations, and the
// Student-t / normal p-values that assume they are come out too small. The
// Mantel test needs only that, under the null hypothesis, the labels of the
// models of one matrix are exchangeable: it relabels the models of the
// second matrix (rows and columns together, S'[i][j] = S[s(i)][s(j)]) R times
// and compares the coefficient with those of the relabelled matrices.
// The p-value is two-sided, as correlate()'s is:
// p = (1 + #{|r*| >= |r| (1 - 1e-12)}) / (1 + R'), R' the permutations that
// gave a finite r* (the factor absorbs rounding: a relabelling that maps the
// matrix onto itself counts as reaching r).
// Permutation t is seeded_permutation(seed, t, M) (permutation.hpp).

#include <cstdint>
#include <vector>

#include "prh/stats/correlation.hpp"

namespace prh::stats {

struct MantelResult {
  double r = 0;                   // the coefficient over the pairs where both are finite
  double p = 0;                   // NaN if r is NaN or no r* is finite
  std::int64_t permutations = 0;  // R': finite r*
};

// Throws InputError for matrices that are not M x M or permutations < 1.
MantelResult mantel(const std::vector<double>& s1, const std::vector<double>& s2, int M, Method m,
                    int permutations, std::uint64_t seed);

// Mantel p-values between K configurations, K x K row-major: entry [a][b]
// (a <= b, mirrored) relabels configuration b's matrix, with the same R
// permutations for every configuration pair.
std::vector<double> mantel_matrix(const std::vector<std::vector<double>>& matrices, int M, Method m,
                                  int permutations, std::uint64_t seed);

}  // namespace prh::stats
