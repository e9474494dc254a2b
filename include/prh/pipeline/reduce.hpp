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
#include <vector>

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

// What the reduce of `prh run` would find and do now (prh status): read
// serially from the store, the results file, the preparation cache and the
// journals of a serial-HDF5 build (their units count as done); writes
// nothing, loads no model. Totals are over every model of the config (what
// `prh run` reduces once it has embedded them).
struct ReduceOutlook {
  std::string problem;  // why reduce would refuse, other than unfinished embeddings ("": none)
  std::int64_t models = 0, configurations = 0, calibrated = 0, permutations = 0;
  bool results_exist = false, complete = false;
  struct Set {
    std::string name;
    std::int64_t images = -1;                      // usable rows; -1 when not in the store
    std::int64_t present = 0;                      // models whose embeddings of it are complete
    std::int64_t score_done = 0, score_total = 0;  // model pairs i <= j
    std::int64_t calibrate_done = 0, calibrate_total = 0;  // model pairs i < j (0: off)
    bool calibration_remade = false;  // its calibration group would be made anew
    std::int64_t prepare_left = 0;    // (model, layer) units the pairs left need, not prepared
  };
  std::vector<Set> sets;
  // (set, model, layer) units needed by the pairs left, and those already
  // prepared (in the preparation cache); lower bound when a model is not in
  // the store yet (its layers unknown: counted as one).
  std::int64_t prepare_done = 0, prepare_needed = 0;
  bool prepare_lower_bound = false;
  std::int64_t journal_units = 0;  // waiting in journals (results and cache), counted as done
  std::string derived;             // "current", "stale" or "absent"
  std::string derived_why;         // for stale and absent
};
ReduceOutlook reduce_outlook(const config::Sweep& sweep);

}  // namespace prh::pipeline
