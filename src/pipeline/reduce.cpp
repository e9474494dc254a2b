// `prh reduce` (reduce.hpp): drives its parts (reduce_parts.hpp) through the
// stage engine, and `prh status`'s outlook of what a reduce would do.

#include "prh/pipeline/reduce.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"
#include "prh/parallel/decide.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/pipeline/groups.hpp"
#include "prh/store/output_paths.hpp"
#include "reduce_parts.hpp"

namespace prh::pipeline {

using namespace reduce_parts;  // NOLINT(google-build-using-namespace): this file
                               // drives them

namespace {

// The (set, model) of every model with a pair left: pair p = (i, j) of set
// s counts when both models are in the set (in_set(s, model)) and
// left(s, p, i, j).
template <class InSet, class Left>
std::set<std::pair<int, int>> models_with_pairs_left(std::size_t sets, std::int64_t pairs,
                                                     const store::ResultsLayout& L,
                                                     const InSet& in_set, const Left& left) {
  std::set<std::pair<int, int>> needed;
  for (std::size_t s = 0; s < sets; ++s)
    for (std::int64_t p = 0; p < pairs; ++p) {
      const auto [i, j] = L.pair_at(p);
      if (!in_set(s, i) || !in_set(s, j) || !left(s, p, i, j)) continue;
      needed.insert({static_cast<int>(s), i});
      needed.insert({static_cast<int>(s), j});
    }
  return needed;
}

// What every rank agrees on before any work: the plan from the store, the
// results' layout, the calibrated configurations and the derived tables'
// identity.
struct Setup {
  std::vector<MetricSpec> specs;
  Plan plan;
  store::ResultsLayout layout;
  store::LayersLayout layers;
  std::vector<int> spec_of;  // calibrated configurations' indices
  store::CalibrationLayout cal;
  std::string hash;
};

Setup set_up(const config::Sweep& sweep, const parallel::Session& session,
             const ReduceOptions& opt) {
  Setup x;
  x.specs = parse_specs(sweep);
  // Rank 0 reads the store; every rank gets its verdict.
  x.plan = plan_from_json(parallel::decide_on_root(
      session, [&] { return to_json(inspect_store(sweep, x.specs, opt)); }));
  x.layout = results_layout(sweep, x.plan, x.specs);
  x.layout.device = sweep.reduce_device;
  x.layers = layers_layout(sweep, x.plan);
  PRH_ASSERT(sweep.reduce_device == "cpu" || opt.backend,
             "reduce_device {} without a backend (prh-models makes it)", sweep.reduce_device);
  x.cal = calibration_layout(sweep, x.specs, x.spec_of);
  if (session.root() && !x.cal.skipped.empty())
    spdlog::warn(
        "reduce: calibration: no permutation null for {} (RBF kernels: docs/calibration.md); "
        "these configurations are not calibrated",
        fmt::join(x.cal.skipped, ", "));
  x.hash = derived_hash(x.layout, sweep, x.cal);
  return x;
}

// Phases 1, 2 and 2b over the models with pairs left: the preparation cache
// made or resumed, its units prepared, then the pairs scored and calibrated.
void prepare_and_pair(const config::Sweep& sweep, const Setup& x,
                      const std::set<std::pair<int, int>>& needed, store::AlignmentWriter& writer,
                      store::CalibrationWriter* cwriter, const parallel::Session& session,
                      const metrics::Backend& backend, ReduceStats& stats_out) {
  const auto pu = prep_units(x.plan);
  const auto& units = pu.units;
  const auto req = metrics::Requirements::of(x.specs);
  const auto cache_path = store::prep_cache_path(sweep.results);
  parallel::decide_on_root(
      session, [&] { store::prepare_prep_cache(cache_path, units, req, x.layout.identity); });
  auto cache = std::make_unique<store::PrepCache>(cache_path, units, req, session.comm());
  session.barrier();
  // Only units of models with pairs left are prepared (run_units throws
  // Stopped on every rank after a stop request: prepared units are saved).
  stats_out.units_prepared =
      prepare_units(sweep, x.plan, pu, *cache, req, session, needed, backend);
  cache.reset();  // collective close: every unit is in the file
  // Serial HDF5: rank 0 merges every rank's journal (docs/store.md).
  session.barrier();
  parallel::decide_on_root(session, [&] { store::finish_unit_writes(cache_path); });
  cache = std::make_unique<store::PrepCache>(cache_path, units, req, session.comm());
  session.barrier();
  stats_out.pairs_scored =
      score_pairs(x.plan, x.layout, x.specs, pu, *cache, writer, x.layers, session, backend);
  if (cwriter)
    stats_out.pairs_calibrated = calibrate_pairs(x.plan, x.layout, x.specs, x.spec_of, x.cal, pu,
                                                 *cache, *cwriter, session, backend);
}

// Phases 1 to 2b, collectively: rank 0 creates or checks and extends the
// file; every rank opens it and reads the done flags before any rank writes
// one.
void align_pairs(const config::Sweep& sweep, const Setup& x, const parallel::Session& session,
                 const metrics::Backend& backend, ReduceStats& stats_out) {
  parallel::decide_on_root(session, [&] {
    store::prepare_results_file(sweep.results, x.layout);
    store::prepare_layers(sweep.results, x.layout, x.layers);
    store::prepare_calibration(sweep.results, x.layout, x.cal);
  });
  auto writer = std::make_unique<store::AlignmentWriter>(sweep.results, x.layout, session.comm());
  std::unique_ptr<store::CalibrationWriter> cwriter;
  if (x.cal.enabled())
    cwriter =
        std::make_unique<store::CalibrationWriter>(sweep.results, x.layout, x.cal, session.comm());
  session.barrier();
  // Units needed by the pairs still to score or calibrate.
  const int K = static_cast<int>(x.specs.size());
  const int M = static_cast<int>(x.layout.models.size());
  const auto needed = models_with_pairs_left(
      x.plan.sets.size(), x.layout.pairs(), x.layout,
      [&](std::size_t s, int m) { return x.plan.sets[s].present[static_cast<std::size_t>(m)]; },
      [&](std::size_t s, std::int64_t p, int i, int j) {
        bool left =
            cwriter && i < j &&
            !cwriter->done(static_cast<int>(s), store::CalibrationLayout::pair_index(M, i, j));
        for (int c = 0; c < K && !left; ++c) left = !writer->done(static_cast<int>(s), c, p);
        return left;
      });
  if (!needed.empty())
    prepare_and_pair(sweep, x, needed, *writer, cwriter.get(), session, backend, stats_out);
  cwriter.reset();
  writer.reset();  // collective close
  session.barrier();
  parallel::decide_on_root(session, [&] { store::finish_unit_writes(sweep.results); });
}

// Phase 3 on rank 0: the derived tables, the group analysis and the layer
// profile, then `complete`.
void derive_on_root(const config::Sweep& sweep, const Setup& x, const ReduceOptions& opt,
                    const ReduceStats& stats_out, clock_type::time_point t0) {
  spdlog::info(
      "reduce: alignment done ({} units prepared, {} pairs scored, {} pairs calibrated) in "
      "{:.1f} s; correlations and predictions",
      stats_out.units_prepared, stats_out.pairs_scored, stats_out.pairs_calibrated,
      seconds_since(t0));
  const auto d = derive(sweep, x.plan, x.layout, x.hash, x.cal, x.spec_of);
  analyse_groups(sweep,
                 x.layout);  // /groups (groups.cpp), before `complete` is set
  if (x.layers.enabled) {    // /layer_profile (reduce_layers.cpp), likewise
    const auto t1 = clock_type::now();
    store::write_layer_profile(sweep.results,
                               layer_profile(sweep, x.plan, x.layout, x.layers, d.mean_seed));
    spdlog::info("reduce: layer profile in {:.1f} s", seconds_since(t1));
  }
  store::write_derived(sweep.results, d);
  log_summary(d, x.layout);
  if (!opt.keep_cache) store::remove_prep_cache(store::prep_cache_path(sweep.results));
  spdlog::info("reduce: done in {:.1f} s; results {}", seconds_since(t0), sweep.results);
}

}  // namespace

ReduceStats reduce(const config::Sweep& sweep, const parallel::Session& session,
                   const ReduceOptions& opt) {
  ReduceStats stats_out;
  // Store, results, preparation cache and their folders must not collide.
  parallel::decide_on_root(session, [&] { store::check_output_paths(sweep.store, sweep.results); });
  const Setup x = set_up(sweep, session, opt);
  const metrics::Backend& backend = opt.backend ? *opt.backend : metrics::cpu_backend();

  // Nothing to do when the results are complete and made from exactly this.
  const bool up_to_date = parallel::decide_on_root(session, [&] {
    const auto [complete, stored_hash] = store::results_state(sweep.results);
    return complete && stored_hash == x.hash;
  });
  if (up_to_date) {
    if (session.root())
      spdlog::info("reduce: {} is complete and up to date; nothing to do", sweep.results);
    stats_out.up_to_date = true;
    return stats_out;
  }

  const auto t0 = clock_type::now();
  align_pairs(sweep, x, session, backend, stats_out);
  session.barrier();
  if (session.root()) derive_on_root(sweep, x, opt, stats_out, t0);
  session.barrier();
  return stats_out;
}

// --- prh status: what a reduce would find and do (read-only) ------------------

namespace {

// The totals, known from the config alone.
ReduceOutlook outlook_totals(const config::Sweep& sweep, const std::vector<MetricSpec>& specs,
                             const store::CalibrationLayout& cal) {
  ReduceOutlook o;
  const auto M = static_cast<std::int64_t>(sweep.models.size());
  o.models = M;
  o.configurations = static_cast<std::int64_t>(specs.size());
  o.calibrated = cal.enabled() ? static_cast<std::int64_t>(cal.configurations.size()) : 0;
  o.permutations = cal.permutations;
  o.results_exist = std::filesystem::exists(sweep.results);
  const std::int64_t P = M * (M + 1) / 2, Pc = store::CalibrationLayout::pairs(static_cast<int>(M));
  for (const auto& s : sweep.image_sets) {
    ReduceOutlook::Set os;
    os.name = s.name;
    // Models with imported features may be absent from a set: no pairs there.
    const auto Ms = static_cast<std::int64_t>(
        std::count_if(sweep.models.begin(), sweep.models.end(),
                      [&](const config::Model& m) { return m.has_set(s.name); }));
    os.score_total = Ms == M ? P : Ms * (Ms + 1) / 2;
    os.calibrate_total = !cal.enabled() ? 0 : Ms == M ? Pc : Ms * (Ms - 1) / 2;
    o.sets.push_back(os);
  }
  o.derived = "absent";
  o.derived_why = "no results file yet";
  return o;
}

// The results file's problem, if reduce would refuse it.
std::string results_problem(const config::Sweep& sweep, const store::ResultsProgress& progress) {
  if (progress.exists && !progress.readable)
    return fmt::format("{}: exists but is not a prh results file", sweep.results);
  if (progress.exists && !progress.same_identity)
    return fmt::format(
        "{}: computed from another configuration ({}), so `prh reduce` refuses to resume it: "
        "use another `results` path, or delete the file",
        sweep.results, progress.identity_changes);
  return "";
}

// Each set's pairs done; returns which (set, model) have pairs left, as
// reduce decides it.
std::set<std::pair<int, int>> pairs_outlook(const config::Sweep& sweep, const Plan& plan,
                                            const store::ResultsLayout& layout,
                                            const store::CalibrationLayout& cal,
                                            const store::ResultsProgress& progress,
                                            ReduceOutlook& o) {
  const auto M = static_cast<int>(sweep.models.size());
  for (std::size_t s = 0; s < plan.sets.size(); ++s) {
    auto& os = o.sets[s];
    const auto& ps = progress.sets[s];
    os.images = plan.sets[s].n_total > 0 ? plan.sets[s].n : -1;
    os.present = std::count(plan.sets[s].present.begin(), plan.sets[s].present.end(), 1);
    os.calibration_remade = ps.calibration_remade;
    os.score_done = std::count(ps.score_done.begin(), ps.score_done.end(), 1);
    os.calibrate_done = std::count(ps.calibrate_done.begin(), ps.calibrate_done.end(), 1);
  }
  const std::int64_t P = static_cast<std::int64_t>(M) * (M + 1) / 2;
  return models_with_pairs_left(
      plan.sets.size(), P, layout,
      [&](std::size_t s,
          int m) {  // an imported model absent from the set: no pair
        return sweep.models[static_cast<std::size_t>(m)].has_set(sweep.image_sets[s].name);
      },
      [&](std::size_t s, std::int64_t p, int i, int j) {
        const auto& ps = progress.sets[s];
        bool left = !ps.score_done[static_cast<std::size_t>(p)];
        if (!left && cal.enabled() && i < j)
          left = !ps.calibrate_done[static_cast<std::size_t>(
              store::CalibrationLayout::pair_index(M, i, j))];
        return left;
      });
}

// The preparation cache, with the units reduce would make now: which of
// those the pairs left need are prepared.
void prepare_outlook(const config::Sweep& sweep, const Plan& plan,
                     const std::vector<MetricSpec>& specs, const store::ResultsLayout& layout,
                     const std::set<std::pair<int, int>>& needed, ReduceOutlook& o) {
  const auto pu = prep_units(plan);
  const auto prep =
      needed.empty() ? store::PrepProgress{}
                     : store::read_prep_progress(sweep.results, pu.units,
                                                 metrics::Requirements::of(specs), layout.identity);
  o.journal_units += prep.journal_units;
  for (const auto& [s, m] : needed) {
    const auto& pm = plan.models[static_cast<std::size_t>(m)];
    auto& os = o.sets[static_cast<std::size_t>(s)];
    if (!pm.in_store) {
      o.prepare_lower_bound = true;
      ++o.prepare_needed;
      ++os.prepare_left;
      continue;
    }
    for (int l : pm.scored_layers()) {
      ++o.prepare_needed;
      const auto it = pu.index.find({s, m, l});
      if (it != pu.index.end() && !prep.done.empty() && prep.done[it->second])
        ++o.prepare_done;
      else
        ++os.prepare_left;
    }
  }
}

// Why complete results' derived tables are stale: the config's keys that
// changed, or another reason.
std::string stale_why(const config::Sweep& sweep, const store::ResultsProgress& progress) {
  std::vector<std::string> changed;
  try {
    const json was = json::parse(progress.config), now = sweep_json(sweep);
    for (const char* k :
         {"metrics", "correlations", "bootstrap", "mantel", "confidence", "seed", "calibration"})
      if (!was.contains(k) || was[k] != now[k]) changed.push_back(k);
  } catch (const json::exception&) {
    changed.push_back("config (unreadable in the file)");
  }
  return changed.empty() ? "made by another prh version, with other model labels, or with other "
                           "models complete (--partial)"
                         : fmt::format("the config's {} changed since they were written",
                                       fmt::join(changed, ", "));
}

// The derived tables: current, stale or absent, and why.
void derived_outlook(const config::Sweep& sweep, const store::ResultsProgress& progress,
                     const std::string& hash, ReduceOutlook& o) {
  if (!progress.exists || !o.problem.empty()) {
    o.derived = "absent";
    o.derived_why = progress.exists ? "the results file cannot be resumed" : "no results file yet";
  } else if (progress.complete && progress.derived_hash == hash) {
    o.derived = "current";
    o.derived_why.clear();
  } else if (progress.complete) {
    o.derived = "stale";
    o.derived_why = stale_why(sweep, progress);
  } else {
    bool left = false;
    for (const auto& s : o.sets)
      left = left || s.score_done < s.score_total || s.calibrate_done < s.calibrate_total;
    o.derived = "absent";
    o.derived_why = left ? "written once every pair is scored and calibrated"
                         : "every pair is done, but the last reduce stopped before writing them "
                           "(killed or still running)";
  }
}

}  // namespace

ReduceOutlook reduce_outlook(const config::Sweep& sweep) {
  const auto specs = parse_specs(sweep);
  std::vector<int> spec_of;
  const auto cal = calibration_layout(sweep, specs, spec_of);
  ReduceOutlook o = outlook_totals(sweep, specs, cal);
  const auto M = static_cast<std::int64_t>(sweep.models.size());
  Plan plan;
  if (std::filesystem::exists(sweep.store)) {
    try {
      ReduceOptions opt;
      opt.partial = true;
      plan = inspect_store(sweep, specs, opt);
    } catch (const InputError& e) {
      o.problem = e.what();
    }
  }
  if (plan.sets.empty()) {  // no store yet, or one reduce refuses: everything is left
    for (auto& s : o.sets) s.prepare_left = M;
    o.prepare_needed = M * static_cast<std::int64_t>(o.sets.size());
    o.prepare_lower_bound = true;
    return o;
  }
  const auto layout = results_layout(sweep, plan, specs);
  const auto progress = store::read_results_progress(sweep.results, layout, cal);
  o.complete = progress.complete;
  o.journal_units = progress.journal_units;
  if (const auto problem = results_problem(sweep, progress); !problem.empty()) o.problem = problem;
  const auto needed = pairs_outlook(sweep, plan, layout, cal, progress, o);
  prepare_outlook(sweep, plan, specs, layout, needed, o);
  derived_outlook(sweep, progress, derived_hash(layout, sweep, cal), o);
  return o;
}

}  // namespace prh::pipeline
