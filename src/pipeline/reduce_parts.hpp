#pragma once
// The parts of `prh reduce` (reduce.cpp drives them), internal to the
// pipeline layer:
//   reduce_plan.cpp       what rank 0 learns from the store (Plan), the
//                         results' layout and identity, the calibrated
//                         configurations, the preparation cache's units;
//   reduce_score.cpp      phase 1, prepare every (set, model, layer) unit;
//                         phase 2, score the model pairs;
//   reduce_calibrate.cpp  phase 2b, the permutation null of every pair;
//   reduce_derive.cpp     phase 3 (rank 0), the derived tables, one function
//                         per table.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "prh/config/config.hpp"
#include "prh/metrics/engine.hpp"
#include "prh/pipeline/reduce.hpp"
#include "prh/pipeline/stage.hpp"
#include "prh/store/results_layers.hpp"
#include "prh/store/results_store.hpp"

namespace prh::parallel {
class Session;
}

namespace prh::pipeline::reduce_parts {

using json = nlohmann::json;
using metrics::MetricSpec;

// What rank 0 learned from the store, shared with every rank.
struct Plan {
  struct Set {
    std::string name;
    std::int64_t n_total = 0, n = 0;
    std::vector<std::int64_t> skipped_rows;
    std::vector<std::uint8_t> present;  // [M]
  };
  struct Model {
    std::string name;
    bool in_store = false;
    std::vector<std::int64_t> layer_dims;
    std::int64_t classes = 0;
    std::vector<int> layers;  // store layers used for the headline scores
    // Every store layer when the layer profile is on (layer_profile: the
    // layer-by-layer matrices of /layers); empty otherwise. Holds `layers`.
    std::vector<int> profile_layers;
    // The layers a pair of this model is scored on: profile_layers when the
    // profile is on, else layers.
    const std::vector<int>& scored_layers() const {
      return profile_layers.empty() ? layers : profile_layers;
    }
  };
  std::vector<Set> sets;
  std::vector<Model> models;
};

json to_json(const Plan& p);
Plan plan_from_json(const json& j);

// The sweep's metric configurations; one InputError listing every bad one.
std::vector<MetricSpec> parse_specs(const config::Sweep& sweep);

// The config as the results file records it (/config).
json sweep_json(const config::Sweep& s);

// Rank 0: reads the store, checks it against the config and the metric
// configurations, lists every problem at once.
Plan inspect_store(const config::Sweep& sweep, const std::vector<MetricSpec>& specs,
                   const ReduceOptions& opt);

store::ResultsLayout results_layout(const config::Sweep& sweep, const Plan& plan,
                                    const std::vector<MetricSpec>& specs);

// The identity of the derived tables: a complete file whose stored hash
// differs is derived again.
std::string derived_hash(const store::ResultsLayout& L, const config::Sweep& sweep,
                         const store::CalibrationLayout& cal);

// Which configurations are calibrated (docs/calibration.md); spec_of gets
// their indices in `specs`.
store::CalibrationLayout calibration_layout(const config::Sweep& sweep,
                                            const std::vector<MetricSpec>& specs,
                                            std::vector<int>& spec_of);

// Every present (set, model, layer) as a unit of the preparation cache (so
// that the cache's identity does not change as pairs finish), and the index
// of each.
struct PrepUnits {
  std::vector<store::PrepUnit> units;
  std::map<std::tuple<int, int, int>, std::size_t> index;  // (set, model, layer) -> unit
};
PrepUnits prep_units(const Plan& plan);

// The work of comparing models i and j on set s once: the sum over their
// layer pairs of D_i D_j + n, times n (the unit plans' cost).
double pair_cost(const Plan& plan, std::size_t s, int i, int j);

// A unit or a pair in words with the bytes it holds, for the message of one
// that runs out of memory (UnitPlan::describe; reduce_memory.cpp). `scored`:
// the models' scored_layers(), else their headline layers.
std::string describe_unit(const Plan& plan, const store::PrepUnit& u);
std::string describe_pair(const Plan& plan, int set, int i, int j, bool scored);

// Model `model`'s prepared layers of set `set`, from the cache: its headline
// layers, or with `scored` its scored_layers().
std::vector<metrics::Representation> read_model(const Plan& plan, const PrepUnits& pu,
                                                store::PrepCache& cache, int set, int model,
                                                bool scored = false);

// The units of a pair stage (score, calibrate): every pair p < `pairs` of
// every set whose two models (pair_at(p)) are present there and that
// done(set, p) does not rule out, in plan order (set, then pair), each
// weighted by pair_cost times `cost_scale`; `plan` names the stage, its
// units "model pairs", none done (the flags were read here).
struct PairWork {
  struct Unit {
    int set;
    std::int64_t pair;
  };
  std::vector<Unit> units;
  UnitPlan plan;
};
PairWork pair_work(const Plan& plan, std::int64_t pairs,
                   const std::function<std::pair<int, int>(std::int64_t)>& pair_at,
                   const std::function<bool(int set, std::int64_t pair)>& done, double cost_scale,
                   const std::string& stage);

// The prepared layers of the model a rank's pair units last loaded: a rank
// does its pairs in plan order, so model i of (i, j) stays loaded across
// the pairs (i, j), (i, j + 1), ...
class HeldModel {
 public:
  // The layers of (set, model): those held, or load(set, model) held now.
  template <class Load>
  const std::vector<metrics::Representation>& get(int set, int model, const Load& load) {
    if (key_ != std::make_pair(set, model)) {
      reps_.clear();
      reps_ = load(set, model);
      key_ = {set, model};
    }
    return reps_;
  }

 private:
  std::pair<int, int> key_{-1, -1};
  std::vector<metrics::Representation> reps_;
};

// The layer-by-layer layout (/layers) of this plan: every model's store
// layer count when the sweep's layer_profile is on, else disabled.
store::LayersLayout layers_layout(const config::Sweep& sweep, const Plan& plan);

// Phase 3b (rank 0, layer profile on): the relative-depth summary of every
// set from /layers (reduce_layers.cpp); `mean_seed` seeds its model
// resamples (the seed of /correlation/S/mean*).
store::LayerProfile layer_profile(const config::Sweep& sweep, const Plan& plan,
                                  const store::ResultsLayout& L, const store::LayersLayout& ll,
                                  std::uint64_t mean_seed);

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0);

// Phase 1: prepare every needed (set, model, layer) unit; returns how many
// this rank prepared.
std::int64_t prepare_units(const config::Sweep& sweep, const Plan& plan, const PrepUnits& pu,
                           store::PrepCache& cache, const metrics::Requirements& req,
                           const parallel::Session& session,
                           const std::set<std::pair<int, int>>& needed,
                           const metrics::Backend& backend);

// Phase 2: score the model pairs not yet done.
std::int64_t score_pairs(const Plan& plan, const store::ResultsLayout& L,
                         const std::vector<MetricSpec>& specs, const PrepUnits& pu,
                         store::PrepCache& cache, store::AlignmentWriter& writer,
                         const store::LayersLayout& ll, const parallel::Session& session,
                         const metrics::Backend& backend);

// Phase 2b: the permutation null of every pair i < j (both orientations for
// asymmetric configurations), for every calibrated configuration.
std::int64_t calibrate_pairs(const Plan& plan, const store::ResultsLayout& L,
                             const std::vector<MetricSpec>& specs, const std::vector<int>& spec_of,
                             const store::CalibrationLayout& cal, const PrepUnits& pu,
                             store::PrepCache& cache, store::CalibrationWriter& writer,
                             const parallel::Session& session, const metrics::Backend& backend);

// Phase 3 (rank 0): the tables derived from the alignment and predictions.
store::Derived derive(const config::Sweep& sweep, const Plan& plan, const store::ResultsLayout& L,
                      const std::string& hash, const store::CalibrationLayout& cal,
                      const std::vector<int>& spec_of);

// One log line per set: each configuration's mean alignment.
void log_summary(const store::Derived& d, const store::ResultsLayout& L);

}  // namespace prh::pipeline::reduce_parts
