#pragma once
// `prh embed CONFIG` (MPI): each rank embeds a contiguous run of work items
// (model, image set, shard) into the parallel HDF5 store, loading each of its
// models once; finished items are skipped, so a killed run resumes.

#include <iosfwd>

#include "prh/config/config.hpp"

namespace prh::parallel {
class Session;
}

namespace prh::pipeline {

// Job-array mode (docs/store.md "Job arrays"): task `array_task` of
// `array_size` embeds its contiguous share of the work items (split again
// over its own MPI ranks, if any) into part files next to the store and never
// writes the store itself. Without it, embed first merges any part files of
// its items into the store.
struct EmbedOptions {
  int array_task = -1;  // -1: not an array task
  int array_size = 0;
};

// Returns the number of items this run embedded (summed over ranks); parts
// merged into the store count as embedded.
std::int64_t embed(const config::Sweep& sweep, const parallel::Session& session,
                   const EmbedOptions& opt = {});

// One work item; items are ordered by model, then image set, then shard.
struct WorkItem {
  int model = 0, set = 0;
  std::int64_t shard = 0, row0 = 0, rows = 0;
};

// All items of a sweep, and the contiguous share of rank r of `ranks`
// (balanced by rows; deterministic). present[m][s] false: model m has no
// item in set s (imported features without that set); empty: every item.
std::vector<WorkItem> plan_items(const std::vector<std::int64_t>& set_sizes, int models,
                                 int shard_size,
                                 const std::vector<std::vector<bool>>& present = {});
std::vector<WorkItem> share(const std::vector<WorkItem>& items, int rank, int ranks);

}  // namespace prh::pipeline
