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

using namespace reduce_parts;  // NOLINT(google-build-using-namespace): this file drives them

ReduceStats reduce(const config::Sweep& sweep, const parallel::Session& session,
                   const ReduceOptions& opt) {
  ReduceStats stats_out;
  // Store, results, preparation cache and their folders must not collide.
  parallel::decide_on_root(session, [&] { store::check_output_paths(sweep.store, sweep.results); });
  const auto specs = parse_specs(sweep);
  // Rank 0 reads the store; every rank gets its verdict.
  const Plan plan = plan_from_json(
      parallel::decide_on_root(session, [&] { return to_json(inspect_store(sweep, specs, opt)); }));
  auto layout = results_layout(sweep, plan, specs);
  layout.device = sweep.reduce_device;
  const auto layers = layers_layout(sweep, plan);
  const metrics::Backend& backend = opt.backend ? *opt.backend : metrics::cpu_backend();
  PRH_ASSERT(sweep.reduce_device == "cpu" || opt.backend,
             "reduce_device {} without a backend (prh-models makes it)", sweep.reduce_device);
  std::vector<int> spec_of;  // calibrated configurations' indices
  const auto cal = calibration_layout(sweep, specs, spec_of);
  if (session.root() && !cal.skipped.empty())
    spdlog::warn(
        "reduce: calibration: no permutation null for {} (RBF kernels: docs/calibration.md); "
        "these configurations are not calibrated",
        fmt::join(cal.skipped, ", "));
  const std::string hash = derived_hash(layout, sweep, cal);

  // Nothing to do when the results are complete and made from exactly this.
  const bool up_to_date = parallel::decide_on_root(session, [&] {
    const auto [complete, stored_hash] = store::results_state(sweep.results);
    return complete && stored_hash == hash;
  });
  if (up_to_date) {
    if (session.root())
      spdlog::info("reduce: {} is complete and up to date; nothing to do", sweep.results);
    stats_out.up_to_date = true;
    return stats_out;
  }

  const auto t0 = clock_type::now();
  {
    // Rank 0 creates or checks and extends the file; every rank opens it and
    // reads the done flags before any rank writes one.
    parallel::decide_on_root(session, [&] {
      store::prepare_results_file(sweep.results, layout);
      store::prepare_layers(sweep.results, layout, layers);
      store::prepare_calibration(sweep.results, layout, cal);
    });
    auto writer = std::make_unique<store::AlignmentWriter>(sweep.results, layout, session.comm());
    std::unique_ptr<store::CalibrationWriter> cwriter;
    if (cal.enabled())
      cwriter =
          std::make_unique<store::CalibrationWriter>(sweep.results, layout, cal, session.comm());
    session.barrier();
    // Units needed by the pairs still to score.
    const int K = static_cast<int>(specs.size());
    std::set<std::pair<int, int>> needed;
    for (std::size_t s = 0; s < plan.sets.size(); ++s)
      for (std::int64_t p = 0; p < layout.pairs(); ++p) {
        const auto [i, j] = layout.pair_at(p);
        if (!plan.sets[s].present[static_cast<std::size_t>(i)] ||
            !plan.sets[s].present[static_cast<std::size_t>(j)])
          continue;
        bool left =
            cwriter && i < j &&
            !cwriter->done(static_cast<int>(s), store::CalibrationLayout::pair_index(
                                                    static_cast<int>(layout.models.size()), i, j));
        for (int c = 0; c < K && !left; ++c) left = !writer->done(static_cast<int>(s), c, p);
        if (left) {
          needed.insert({static_cast<int>(s), i});
          needed.insert({static_cast<int>(s), j});
        }
      }
    if (!needed.empty()) {
      const auto pu = prep_units(plan);
      const auto& units = pu.units;
      const auto req = metrics::Requirements::of(specs);
      const auto cache_path = store::prep_cache_path(sweep.results);
      parallel::decide_on_root(
          session, [&] { store::prepare_prep_cache(cache_path, units, req, layout.identity); });
      auto cache = std::make_unique<store::PrepCache>(cache_path, units, req, session.comm());
      session.barrier();
      // Only units of models with pairs left are prepared (run_units throws
      // Stopped on every rank after a stop request: prepared units are saved).
      stats_out.units_prepared =
          prepare_units(sweep, plan, pu, *cache, req, session, needed, backend);
      cache.reset();  // collective close: every unit is in the file
      // Serial HDF5: rank 0 merges every rank's journal (docs/store.md).
      session.barrier();
      parallel::decide_on_root(session, [&] { store::finish_unit_writes(cache_path); });
      cache = std::make_unique<store::PrepCache>(cache_path, units, req, session.comm());
      session.barrier();
      stats_out.pairs_scored =
          score_pairs(plan, layout, specs, pu, *cache, *writer, layers, session, backend);
      if (cwriter)
        stats_out.pairs_calibrated = calibrate_pairs(plan, layout, specs, spec_of, cal, pu, *cache,
                                                     *cwriter, session, backend);
    }
    cwriter.reset();
    writer.reset();  // collective close
    session.barrier();
    parallel::decide_on_root(session, [&] { store::finish_unit_writes(sweep.results); });
  }
  session.barrier();
  if (session.root()) {
    spdlog::info(
        "reduce: alignment done ({} units prepared, {} pairs scored, {} pairs calibrated) in "
        "{:.1f} s; correlations and predictions",
        stats_out.units_prepared, stats_out.pairs_scored, stats_out.pairs_calibrated,
        seconds_since(t0));
    const auto d = derive(sweep, plan, layout, hash, cal, spec_of);
    analyse_groups(sweep, layout);  // /groups (groups.cpp), before `complete` is set
    if (layers.enabled) {           // /layer_profile (reduce_layers.cpp), likewise
      const auto t1 = clock_type::now();
      store::write_layer_profile(sweep.results,
                                 layer_profile(sweep, plan, layout, layers, d.mean_seed));
      spdlog::info("reduce: layer profile in {:.1f} s", seconds_since(t1));
    }
    store::write_derived(sweep.results, d);
    log_summary(d, layout);
    if (!opt.keep_cache) store::remove_prep_cache(store::prep_cache_path(sweep.results));
    spdlog::info("reduce: done in {:.1f} s; results {}", seconds_since(t0), sweep.results);
  }
  session.barrier();
  return stats_out;
}

// --- prh status: what a reduce would find and do (read-only) ------------------

ReduceOutlook reduce_outlook(const config::Sweep& sweep) {
  ReduceOutlook o;
  const auto specs = parse_specs(sweep);
  std::vector<int> spec_of;
  const auto cal = calibration_layout(sweep, specs, spec_of);
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
  if (progress.exists && !progress.readable)
    o.problem = fmt::format("{}: exists but is not a prh results file", sweep.results);
  else if (progress.exists && !progress.same_identity)
    o.problem = fmt::format(
        "{}: computed from another configuration ({}), so `prh reduce` refuses to resume it: "
        "use another `results` path, or delete the file",
        sweep.results, progress.identity_changes);
  // Which (set, model) have pairs left, as reduce decides it.
  std::set<std::pair<std::size_t, std::size_t>> needed;
  for (std::size_t s = 0; s < plan.sets.size(); ++s) {
    auto& os = o.sets[s];
    const auto& ps = progress.sets[s];
    os.images = plan.sets[s].n_total > 0 ? plan.sets[s].n : -1;
    os.present = std::count(plan.sets[s].present.begin(), plan.sets[s].present.end(), 1);
    os.calibration_remade = ps.calibration_remade;
    os.score_done = std::count(ps.score_done.begin(), ps.score_done.end(), 1);
    os.calibrate_done = std::count(ps.calibrate_done.begin(), ps.calibrate_done.end(), 1);
    for (std::int64_t p = 0; p < P; ++p) {
      const auto [i, j] = layout.pair_at(p);
      if (!sweep.models[static_cast<std::size_t>(i)].has_set(sweep.image_sets[s].name) ||
          !sweep.models[static_cast<std::size_t>(j)].has_set(sweep.image_sets[s].name))
        continue;  // an imported model absent from the set: no pair
      bool left = !ps.score_done[static_cast<std::size_t>(p)];
      if (!left && cal.enabled() && i < j)
        left = !ps.calibrate_done[static_cast<std::size_t>(
            store::CalibrationLayout::pair_index(static_cast<int>(M), i, j))];
      if (left) {
        needed.insert({s, static_cast<std::size_t>(i)});
        needed.insert({s, static_cast<std::size_t>(j)});
      }
    }
  }
  // The preparation cache, with the units reduce would make now.
  const auto pu = prep_units(plan);
  const auto prep =
      needed.empty() ? store::PrepProgress{}
                     : store::read_prep_progress(sweep.results, pu.units,
                                                 metrics::Requirements::of(specs), layout.identity);
  o.journal_units += prep.journal_units;
  for (const auto& [s, m] : needed) {
    const auto& pm = plan.models[m];
    if (!pm.in_store) {
      o.prepare_lower_bound = true;
      ++o.prepare_needed;
      ++o.sets[s].prepare_left;
      continue;
    }
    for (int l : pm.scored_layers()) {
      ++o.prepare_needed;
      const auto it = pu.index.find({static_cast<int>(s), static_cast<int>(m), l});
      if (it != pu.index.end() && !prep.done.empty() && prep.done[it->second])
        ++o.prepare_done;
      else
        ++o.sets[s].prepare_left;
    }
  }
  // The derived tables.
  const std::string hash = derived_hash(layout, sweep, cal);
  if (!progress.exists || !o.problem.empty()) {
    o.derived = "absent";
    o.derived_why = progress.exists ? "the results file cannot be resumed" : "no results file yet";
  } else if (progress.complete && progress.derived_hash == hash) {
    o.derived = "current";
    o.derived_why.clear();
  } else if (progress.complete) {
    o.derived = "stale";
    std::vector<std::string> changed;
    try {
      const json was = json::parse(progress.config), now = sweep_json(sweep);
      for (const char* k :
           {"metrics", "correlations", "bootstrap", "mantel", "confidence", "seed", "calibration"})
        if (!was.contains(k) || was[k] != now[k]) changed.push_back(k);
    } catch (const json::exception&) {
      changed.push_back("config (unreadable in the file)");
    }
    o.derived_why =
        changed.empty()
            ? "made by another prh version, with other model labels, or with other models "
              "complete (--partial)"
            : fmt::format("the config's {} changed since they were written",
                          fmt::join(changed, ", "));
  } else {
    bool left = false;
    for (const auto& s : o.sets)
      left = left || s.score_done < s.score_total || s.calibrate_done < s.calibrate_total;
    o.derived = "absent";
    o.derived_why = left ? "written once every pair is scored and calibrated"
                         : "every pair is done, but the last reduce stopped before writing them "
                           "(killed or still running)";
  }
  return o;
}

}  // namespace prh::pipeline
