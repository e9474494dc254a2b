#pragma once
// The group analysis of the reduce stage (issue 15; docs/results.md,
// /groups): per image set and configuration, the mean alignment of model
// pairs within a training distribution vs across distributions, and within vs
// across architecture families, with bootstrap intervals over models and a
// permutation test of "within > across"; and the correlation between
// configurations over the cross-distribution pairs only. Labels come from the
// config's model entries (`training_data`, `family`, `objective`). Rank 0,
// after the alignment matrices are complete.

#include "prh/config/config.hpp"
#include "prh/store/results_store.hpp"

namespace prh::pipeline {

// Relabellings of the permutation test.
constexpr int kGroupPermutations = 1000;

void analyse_groups(const config::Sweep& sweep, const store::ResultsLayout& layout);

}  // namespace prh::pipeline
