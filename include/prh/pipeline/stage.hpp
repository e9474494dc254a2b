#pragma once
// The stage engine: every resumable stage (embed, prepare, score, zoo
// training, and whatever comes next) is a plan of units plus a function that
// does one unit. The engine decides which rank does which unit
// (deterministically, from the plan alone), skips units done earlier, checks
// for a stop request between units, reports global progress with an ETA, and
// does the final accounting. A stage never touches MPI or HDF5 itself:
// collective file steps go through parallel::decide_on_root and the store's
// open functions; a unit's function writes its data, then its done flag
// (store::DoneFlags), and returns. docs/architecture.md.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace prh::parallel {
class Session;
}

namespace prh::pipeline {

// How the units left are dealt to the ranks.
enum class Share {
  kContiguous,  // contiguous runs in plan order, weighted by cost (keeps a
                // model's units together)
  kBalanced,    // longest first, each to the least loaded rank
};

struct UnitPlan {
  std::string stage;               // names the stage in logs and in PRH_TEST_HOLD
  std::string unit = "units";      // what a unit is, in logs ("work items", "pairs")
  std::vector<double> cost;        // one per unit, > 0
  std::vector<std::uint8_t> done;  // one per unit: 1 = nothing to do (done earlier)
  Share share = Share::kContiguous;
  std::string rate_unit;   // if set, progress shows cost per second in this unit
  double log_every_s = 5;  // seconds between progress lines (rank 0)
  // If set: names a unit (its set, model or pair) and about how many bytes
  // it holds; a std::bad_alloc in that unit then becomes an InputError
  // (exit 2) saying so, instead of an internal error.
  std::function<std::string(std::size_t unit)> describe;
};

struct StageOutcome {
  std::int64_t units = 0;  // in the plan
  std::int64_t todo = 0;   // not done when the stage started, over all ranks
  std::int64_t done = 0;   // finished by this run, over all ranks
  double seconds = 0;
};

// This rank's units of the plan's undone ones, in the order it does them.
std::vector<std::size_t> my_units(const UnitPlan& plan, int rank, int ranks);

// Runs `fn(unit)` for this rank's units (the share is dealt from rank 0's
// done flags, broadcast: the ranks always agree on it). Between units it checks for a stop
// request; a unit function may also throw Stopped to abandon its unit. Rank
// 0 logs "STAGE: D/T UNIT (P%), RATE, ETA ..." over all ranks. At the end,
// collectively: if any rank stopped, every rank throws Stopped naming what
// was finished (finished units are saved: a re-run resumes); otherwise it
// returns the accounting (the same on every rank). A unit that runs out of
// memory (std::bad_alloc) is an InputError naming it when the plan has
// `describe`.
StageOutcome run_units(const parallel::Session& session, const UnitPlan& plan,
                       const std::function<void(std::size_t unit)>& fn);

}  // namespace prh::pipeline
