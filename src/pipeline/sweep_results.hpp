#pragma once
// The falsification sweeps' summaries (docs/sweeps.md), derived on rank 0 from
// the per-set tables: curves over the levels, breaking points.

#include <vector>

#include "prh/config/config.hpp"
#include "prh/store/results_store.hpp"

namespace prh::pipeline {

// matrices[s][k]: set s's (index into d.sets) score matrix of configuration k.
// Reads the calibrated scores from the results file where calibrated.
std::vector<store::SweepDerived> derive_sweeps(
    const config::Sweep& sweep, const store::Derived& d,
    const std::vector<std::vector<std::vector<double>>>& matrices, int M,
    const store::CalibrationLayout& cal);

}  // namespace prh::pipeline
