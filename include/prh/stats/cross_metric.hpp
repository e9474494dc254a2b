#pragma once
// Cross-metric agreement beyond construction (docs/calibration.md, issue 23).
//
// Two metrics computed on the same model pairs share the pairs' chance
// fluctuations: on unrelated representations their scores still correlate
// over the pairs. The calibration null measures that directly: permutation t
// shuffles the images of model B of every pair with the same permutation, so
// the coefficient between the two configurations' null scores over the
// pairs, r_t, is the coefficient that pairs sharing nothing would give. The
// one-sided p of the observed coefficient against the r_t tests "the metrics
// agree beyond what chance gives them". (Mantel's relabelling of models
// keeps each pair's chance fluctuations attached to the pair in one matrix
// and not the other, so it tests pair-level association only, which chance
// creates: it is not a test of agreement beyond construction.)
// Pure functions.

#include <cstddef>
#include <vector>

#include "prh/stats/calibration.hpp"
#include "prh/stats/correlation.hpp"

namespace prh::stats {

// The correlation null of two configurations: `null_a`, `null_b` row-major
// [P, permutations] (row p: pair p's null scores, column t: permutation t,
// the same permutation for every pair), `observed` the coefficient over the
// pairs' observed scores. Per permutation t the coefficient (method m, over
// the pairs where both null scores are finite) r_t, then
// summarize_null(observed, {r_t}): mean, q95 and the one-sided p. Throws
// InputError for inconsistent sizes.
NullSummary correlation_null(double observed, const std::vector<double>& null_a,
                             const std::vector<double>& null_b, std::size_t permutations, Method m);

}  // namespace prh::stats
