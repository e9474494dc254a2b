#pragma once
// `prh reduce CONFIG` (MPI): from the embedding store to results.h5
// (docs/results.md). Per image set:
//   1. prepare: every (model, layer) is preprocessed and gets its neighbour
//      lists (largest k needed), moments and SVCCA bases once, by one rank,
//      into a preparation cache beside the results;
//   2. score: model pairs i <= j are spread over ranks; each scores every
//      configuration (best layer pair, or last layer only) and writes
//      S[i][j] and S[j][i], then the pair's done flag per configuration;
//   2b. calibrate (calibration.permutations > 0): the permutation null of
//      every pair i < j and calibrated configuration (docs/calibration.md),
//      units (set, pair) over ranks, seeded so results do not depend on ranks;
//   3. derive (rank 0): correlations between configurations with p-values and
//      bootstrap intervals, alignment vs accuracy, predictions and agreement,
//      comparisons between image sets.
// Every stage resumes: a killed reduce re-run redoes only unfinished units.
// `prh run CONFIG` = embed, then reduce, in one job.

#include <cstdint>
#include <string>

#include "prh/config/config.hpp"

namespace prh::parallel {
class Session;
}
namespace prh::metrics {
class Backend;
}

namespace prh::pipeline {

struct ReduceOptions {
  // Reduce what is complete: models whose embeddings of a set are unfinished
  // are left out (NaN) instead of refusing.
  bool partial = false;
  // Keep the preparation cache (results + ".prep.h5") after completion.
  bool keep_cache = false;
  // Where the heavy metric steps run (docs/gpu.md): made by the caller from
  // the config's reduce_device before reduce starts (so that a missing GPU
  // is reported before the results file is opened); null: the CPU path.
  const metrics::Backend* backend = nullptr;
};

struct ReduceStats {
  std::int64_t units_prepared = 0;  // summed over ranks
  std::int64_t pairs_scored = 0;
  std::int64_t pairs_calibrated = 0;  // (set, pair i < j) units of the calibrate stage
  bool up_to_date = false;            // nothing was left to do
};

ReduceStats reduce(const config::Sweep& sweep, const parallel::Session& session,
                   const ReduceOptions& opt);

}  // namespace prh::pipeline
