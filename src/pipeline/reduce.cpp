#include "prh/pipeline/reduce.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"
#include "prh/core/files.hpp"
#include "prh/metrics/engine.hpp"
#include "prh/metrics/null.hpp"
#include "prh/metrics/preprocess.hpp"
#include "prh/parallel/decide.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/pipeline/groups.hpp"
#include "prh/pipeline/label_space.hpp"
#include "prh/pipeline/stage.hpp"
#include "prh/stats/bootstrap.hpp"
#include "prh/stats/calibration.hpp"
#include "prh/stats/correlation.hpp"
#include "prh/stats/cross_metric.hpp"
#include "prh/stats/mantel.hpp"
#include "prh/stats/permutation.hpp"
#include "prh/stats/predictions.hpp"
#include "prh/store/embedding_reader.hpp"
#include "prh/store/embedding_store.hpp"
#include "prh/store/output_paths.hpp"
#include "prh/store/results_store.hpp"
#include "progress.hpp"
#include "sweep_results.hpp"

namespace prh::pipeline {

using json = nlohmann::json;
using metrics::MetricSpec;

namespace {

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
    std::vector<int> layers;  // store layers used
  };
  std::vector<Set> sets;
  std::vector<Model> models;
};

json to_json(const Plan& p) {
  json j;
  for (const auto& s : p.sets)
    j["sets"].push_back({{"name", s.name},
                         {"n_total", s.n_total},
                         {"n", s.n},
                         {"skipped_rows", s.skipped_rows},
                         {"present", s.present}});
  for (const auto& m : p.models)
    j["models"].push_back({{"name", m.name},
                           {"in_store", m.in_store},
                           {"layer_dims", m.layer_dims},
                           {"classes", m.classes},
                           {"layers", m.layers}});
  return j;
}

Plan plan_from_json(const json& j) {
  Plan p;
  for (const auto& s : j.at("sets"))
    p.sets.push_back({s.at("name"), s.at("n_total"), s.at("n"),
                      s.at("skipped_rows").get<std::vector<std::int64_t>>(),
                      s.at("present").get<std::vector<std::uint8_t>>()});
  for (const auto& m : j.at("models"))
    p.models.push_back({m.at("name"), m.at("in_store"),
                        m.at("layer_dims").get<std::vector<std::int64_t>>(), m.at("classes"),
                        m.at("layers").get<std::vector<int>>()});
  return p;
}

std::vector<MetricSpec> parse_specs(const config::Sweep& sweep) {
  std::vector<std::string> problems;
  std::vector<MetricSpec> specs;
  for (const auto& m : metrics::parse_metric_list(sweep.metrics, problems)) specs.push_back(m.spec);
  if (!problems.empty()) {
    std::string msg = fmt::format("{}: bad metric configurations:", sweep.file);
    for (const auto& p : problems) msg += "\n  - " + p;
    throw InputError(msg);
  }
  return specs;
}

json identity_of(const config::Sweep& sweep) {
  json sets = json::array(), models = json::array();
  for (const auto& s : sweep.image_sets) sets.push_back(config::Sweep::image_set_json(s));
  for (const auto& m : sweep.models) models.push_back(config::Sweep::model_json(m));
  return {{"embed_params", sweep.embed_params()},
          {"sets", sets},
          {"models", models},
          {"preprocess",
           {{"clamp", sweep.preprocess.clamp},
            {"q", sweep.preprocess.q},
            {"exact", sweep.preprocess.exact},
            {"normalize", sweep.preprocess.normalize}}},
          {"last_layer_only", sweep.last_layer_only}};
}

json sweep_json(const config::Sweep& s) {
  json sets = json::array(), models = json::array();
  for (const auto& x : s.image_sets) sets.push_back({{"name", x.name}, {"source", x.source.spec}});
  for (const auto& m : s.models)
    models.push_back(m.imported()
                         ? config::Sweep::model_json(m)
                         : json{{"name", m.name}, {"path", m.path}, {"sidecar", m.sidecar}});
  return {{"store", s.store},
          {"results", s.results},
          {"seed", s.seed},
          {"batch_size", s.batch_size},
          {"shard_size", s.shard_size},
          {"device", s.device},
          {"threads_per_rank", s.threads_per_rank},
          {"feature_dtype", s.feature_dtype},
          {"on_bad_image", s.on_bad_image},
          {"preprocess",
           {{"clamp", s.preprocess.clamp},
            {"q", s.preprocess.q},
            {"exact", s.preprocess.exact},
            {"normalize", s.preprocess.normalize}}},
          {"last_layer_only", s.last_layer_only},
          {"metrics", s.metrics},
          {"correlations", s.correlations},
          {"bootstrap", s.bootstrap},
          {"mantel", s.mantel},
          {"confidence", s.confidence},
          {"calibration",
           {{"permutations", s.calibration.permutations},
            {"alpha", s.calibration.alpha},
            {"seed", s.calibration.seed},
            {"metrics", s.calibration.metrics}}},
          {"reduce_device", s.reduce_device},
          {"image_sets", sets},
          {"models", models}};
}

// What `prh reduce` adds when job-array parts wait to be merged ("" if none).
std::string parts_hint(const config::Sweep& sweep) {
  const auto parts = store::list_parts(sweep.store).size();
  if (parts == 0) return "";
  return fmt::format(
      " ({} work items of a job array wait in {}: `prh embed {}` or `prh run` merges them)", parts,
      store::parts_dir(sweep.store), sweep.file);
}

// One model of the config as the store holds it: its layers and classes.
Plan::Model inspect_model(const store::StoreReader& st, const config::Sweep& sweep,
                          const config::Model& m, const ReduceOptions& opt,
                          std::vector<std::string>& problems, std::vector<std::string>& missing) {
  Plan::Model pm;
  pm.name = m.name;
  pm.in_store = st.has_model(m.name);
  if (!pm.in_store) {
    if (!opt.partial) missing.push_back(fmt::format("model '{}': not in the store", m.name));
    return pm;
  }
  const auto sm = st.model(m.name);
  json spec = sm.spec;
  spec.erase("checksum");
  if (spec != config::Sweep::model_json(m))
    problems.push_back(
        fmt::format("model '{}' differs from the one in the store ({} there, {} in the config)",
                    m.name, spec.dump(), config::Sweep::model_json(m).dump()));
  pm.layer_dims = sm.layer_dims;
  pm.classes = sm.classes;
  const int L = static_cast<int>(sm.layer_dims.size());
  if (sweep.last_layer_only)
    pm.layers = {L - 1};
  else
    for (int l = 0; l < L; ++l) pm.layers.push_back(l);
  return pm;
}

// Every configuration must be computable on this set with its present models.
void check_computable(const Plan::Set& ps, const config::Sweep& sweep, const Plan& plan,
                      const std::vector<MetricSpec>& specs, std::vector<std::string>& problems) {
  if (std::find(ps.present.begin(), ps.present.end(), std::uint8_t{1}) == ps.present.end()) return;
  std::set<std::string> seen;
  for (const auto& spec : specs) {
    if (spec.uses_knn() && spec.k > ps.n - 1) {
      problems.push_back(fmt::format(
          "image set '{}' has {} usable images, so {} cannot be computed: k must be <= {} "
          "(self excluded)",
          ps.name, ps.n, spec.name(), ps.n - 1));
      continue;
    }
    for (std::size_t m = 0; m < sweep.models.size(); ++m) {
      if (!ps.present[m]) continue;
      for (int l : plan.models[m].layers) {
        const auto d = plan.models[m].layer_dims[static_cast<std::size_t>(l)];
        try {
          metrics::validate(spec, ps.n, d, d);
        } catch (const InputError& e) {
          const auto msg = fmt::format("image set '{}', model '{}' (layer {}, D = {}): {}", ps.name,
                                       sweep.models[m].name, l, d, e.what());
          if (seen.insert(msg).second) problems.push_back(msg);
        }
      }
    }
  }
}

// One image set of the config as the store holds it: its usable rows and the
// models whose embeddings of it are complete.
Plan::Set inspect_set(const store::StoreReader& st, const config::Sweep& sweep,
                      const config::ImageSet& s, const Plan& plan, const ReduceOptions& opt,
                      std::vector<std::string>& problems, std::vector<std::string>& missing) {
  Plan::Set ps;
  ps.name = s.name;
  ps.present.assign(sweep.models.size(), 0);
  if (!st.has_set(s.name)) {
    if (!opt.partial) missing.push_back(fmt::format("image set '{}': not in the store", s.name));
    return ps;
  }
  const auto ss = st.set(s.name);
  if (ss.spec != config::Sweep::image_set_json(s))
    problems.push_back(
        fmt::format("image set '{}' differs from the one in the store ({} there, {} in the config)",
                    s.name, ss.spec.dump(), config::Sweep::image_set_json(s).dump()));
  ps.n_total = ss.n;
  for (std::int64_t r = 0; r < ss.n; ++r)
    if (ss.skipped[static_cast<std::size_t>(r)]) ps.skipped_rows.push_back(r);
  ps.n = ss.n - static_cast<std::int64_t>(ps.skipped_rows.size());
  for (std::size_t m = 0; m < sweep.models.size(); ++m) {
    if (!plan.models[m].in_store) continue;
    // Imported features without this set: the model is absent from it.
    if (!sweep.models[m].has_set(s.name)) continue;
    const auto done = st.done(s.name, sweep.models[m].name);
    const auto finished = std::count(done.begin(), done.end(), std::uint8_t{1});
    if (!done.empty() && finished == static_cast<std::int64_t>(done.size())) {
      ps.present[m] = 1;
    } else if (!opt.partial) {
      missing.push_back(fmt::format("image set '{}', model '{}': {} of {} shards embedded", s.name,
                                    sweep.models[m].name, finished,
                                    (ss.n + st.shard_size() - 1) / st.shard_size()));
    }
  }
  return ps;
}

// Throws one InputError listing every problem, the missing embeddings first.
void throw_store_problems(const config::Sweep& sweep, const std::string& hint,
                          std::vector<std::string> problems,
                          const std::vector<std::string>& missing) {
  if (!missing.empty()) {
    std::string msg = fmt::format("{}: the embeddings are not complete:", sweep.store);
    for (const auto& m : missing) msg += "\n  - " + m;
    msg += fmt::format(
        "\nRun `prh embed {}` to finish them{}, or `prh reduce --partial` to reduce what is "
        "complete.",
        sweep.file, hint);
    problems.insert(problems.begin(), msg);
  }
  if (problems.empty()) return;
  if (problems.size() == 1 && !missing.empty()) throw InputError(problems[0]);
  std::string msg = fmt::format("cannot reduce {}:", sweep.file);
  for (const auto& p : problems) msg += "\n  - " + p;
  throw InputError(msg);
}

// Rank 0: reads the store, checks it against the config and the metric
// configurations, lists every problem at once.
Plan inspect_store(const config::Sweep& sweep, const std::vector<MetricSpec>& specs,
                   const ReduceOptions& opt) {
  const std::string hint = parts_hint(sweep);
  PRH_CHECK_INPUT(std::filesystem::exists(sweep.store),
                  "{}: the store does not exist; run `prh embed {}` first{}", sweep.store,
                  sweep.file, hint);
  store::StoreReader st(sweep.store);
  std::vector<std::string> problems, missing;
  if (st.embed_params() != sweep.embed_params())
    problems.push_back(fmt::format(
        "the store was made with other embedding parameters ({} there, {} in the config)",
        st.embed_params().dump(), sweep.embed_params().dump()));
  Plan plan;
  for (const auto& m : sweep.models)
    plan.models.push_back(inspect_model(st, sweep, m, opt, problems, missing));
  for (const auto& s : sweep.image_sets) {
    Plan::Set ps = inspect_set(st, sweep, s, plan, opt, problems, missing);
    check_computable(ps, sweep, plan, specs, problems);
    plan.sets.push_back(std::move(ps));
  }
  throw_store_problems(sweep, hint, std::move(problems), missing);
  return plan;
}

store::ResultsLayout results_layout(const config::Sweep& sweep, const Plan& plan,
                                    const std::vector<MetricSpec>& specs) {
  store::ResultsLayout L;
  L.config_file = sweep.file;
  L.config_text = read_text(sweep.file, "config file");
  L.config = sweep_json(sweep);
  L.identity = identity_of(sweep);
  L.config_hash = config::hash_json(L.identity);
  L.store_path = sweep.store;
  for (const auto& m : plan.models) {
    L.models.push_back(m.name);
    L.layer_counts.push_back(static_cast<std::int64_t>(m.layers.size()));
    L.classes.push_back(m.classes);
  }
  for (const auto& s : specs)
    L.configurations.push_back({s.name(), s.metric_name(), s.params(), s.symmetric()});
  L.preprocess = L.identity["preprocess"];
  L.last_layer_only = sweep.last_layer_only;
  for (const auto& s : plan.sets)
    L.sets.push_back({s.name, s.n, static_cast<std::int64_t>(s.skipped_rows.size()), s.present});
  return L;
}

std::string derived_hash(const store::ResultsLayout& L, const config::Sweep& sweep,
                         const store::CalibrationLayout& cal) {
  json sets = json::array();
  for (const auto& s : L.sets)
    sets.push_back({{"name", s.name}, {"n", s.n}, {"present", s.models_present}});
  json configs = json::array();
  for (const auto& c : L.configurations) configs.push_back(c.name);
  // The models' labels feed /groups (and the report's grouping) only.
  json labels = json::array();
  for (const auto& m : sweep.models) labels.push_back({m.training_data, m.family, m.objective});
  json breaking = json::array();  // the sweeps' effect-size breaking fractions
  for (const auto& w : sweep.sweeps) breaking.push_back(w.relative_breaking);
  // "tables": bumped when the derived tables change, so that complete files
  // are derived again (3: /sweeps, set comparisons within sweeps, /groups;
  // 4: group effects, the comparison's percentile p, label spaces).
  return config::hash_json({{"tables", 4},
                            {"labels", labels},
                            {"relative_breaking", breaking},
                            {"identity", L.identity},
                            {"configurations", configs},
                            {"sets", sets},
                            {"correlations", sweep.correlations},
                            {"bootstrap", sweep.bootstrap},
                            {"mantel", sweep.mantel},
                            {"confidence", sweep.confidence},
                            {"seed", sweep.seed},
                            {"calibration",
                             {{"permutations", cal.permutations},
                              {"alpha", cal.alpha},
                              {"seed", std::to_string(cal.seed)},
                              {"configurations", cal.configurations}}}});
}

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Phase 1: prepare every needed (set, model, layer) unit.
std::int64_t prepare_units(const config::Sweep& sweep, const Plan& plan,
                           const std::vector<store::PrepUnit>& units, store::PrepCache& cache,
                           const metrics::Requirements& req, const parallel::Session& session,
                           const std::set<std::pair<int, int>>& needed,
                           const metrics::Backend& backend) {
  // A unit per (set, model, layer); those of models without pairs left, and
  // those prepared earlier, are done. Longest first, each to the least
  // loaded rank (deterministic).
  UnitPlan up;
  up.stage = "prepare";
  up.unit = "(set, model, layer) units";
  up.share = Share::kBalanced;
  up.log_every_s = 10;
  for (std::size_t u = 0; u < units.size(); ++u) {
    const auto& x = units[u];
    up.cost.push_back(
        static_cast<double>(x.n) * static_cast<double>(x.n) * static_cast<double>(x.dim) +
        static_cast<double>(x.n) * static_cast<double>(x.dim) * static_cast<double>(x.dim));
    up.done.push_back(cache.done(u) || !needed.count({x.set, x.model}) ? 1 : 0);
  }
  const auto todo = std::count(up.done.begin(), up.done.end(), std::uint8_t{0});
  if (session.root() && todo > 0)
    spdlog::info("reduce: preparing {} of {} (set, model, layer) units on {} ranks", todo,
                 units.size(), session.size());
  std::unique_ptr<store::StoreReader> st;
  metrics::PreprocessOptions pre{sweep.preprocess.clamp, sweep.preprocess.q, sweep.preprocess.exact,
                                 sweep.preprocess.normalize};
  const auto out = run_units(session, up, [&](std::size_t unit) {
    if (!st) st = std::make_unique<store::StoreReader>(sweep.store);
    const auto& u = units[unit];
    const auto& s = plan.sets[static_cast<std::size_t>(u.set)];
    const auto& m = plan.models[static_cast<std::size_t>(u.model)];
    metrics::MatrixF all = st->read_layer(s.name, m.name, u.layer, u.dim);
    metrics::Representation rep;
    if (s.skipped_rows.empty()) {
      rep.x = std::move(all);
    } else {
      rep.x.resize(s.n, u.dim);
      std::size_t skip = 0;
      metrics::Index row = 0;
      for (metrics::Index r = 0; r < all.rows(); ++r) {
        if (skip < s.skipped_rows.size() && s.skipped_rows[skip] == r) {
          ++skip;
          continue;
        }
        rep.x.row(row++) = all.row(r);
      }
    }
    metrics::check_finite(rep.x, fmt::format("store {}, image set '{}', model '{}', layer {}",
                                             sweep.store, s.name, m.name, u.layer));
    metrics::preprocess(rep.x, pre);
    metrics::prepare(rep, req, backend);
    cache.write(unit, rep);
  });
  return out.done;
}

// Phase 2: score the model pairs not yet done.
std::int64_t score_pairs(const Plan& plan, const store::ResultsLayout& L,
                         const std::vector<MetricSpec>& specs,
                         const std::map<std::tuple<int, int, int>, std::size_t>& unit_of,
                         store::PrepCache& cache, store::AlignmentWriter& writer,
                         const parallel::Session& session, const metrics::Backend& backend) {
  struct Todo {
    int set;
    std::int64_t pair;
  };
  std::vector<Todo> todo;
  std::vector<double> weight;
  const int K = static_cast<int>(specs.size());
  for (std::size_t s = 0; s < plan.sets.size(); ++s) {
    for (std::int64_t p = 0; p < L.pairs(); ++p) {
      const auto [i, j] = L.pair_at(p);
      if (!plan.sets[s].present[static_cast<std::size_t>(i)] ||
          !plan.sets[s].present[static_cast<std::size_t>(j)])
        continue;
      bool any = false;
      for (int c = 0; c < K; ++c) any = any || !writer.done(static_cast<int>(s), c, p);
      if (!any) continue;
      todo.push_back({static_cast<int>(s), p});
      double w = 0;
      for (int li : plan.models[static_cast<std::size_t>(i)].layers)
        for (int lj : plan.models[static_cast<std::size_t>(j)].layers)
          w += static_cast<double>(plan.models[static_cast<std::size_t>(i)].layer_dims[li]) *
                   static_cast<double>(plan.models[static_cast<std::size_t>(j)].layer_dims[lj]) +
               static_cast<double>(plan.sets[s].n);
      weight.push_back(w * static_cast<double>(plan.sets[s].n));
    }
  }
  UnitPlan up;
  up.stage = "score";
  up.unit = "model pairs";
  up.cost = weight;
  up.done.assign(todo.size(), 0);
  up.log_every_s = 10;
  if (session.root() && !todo.empty())
    spdlog::info("reduce: scoring {} model pairs x {} configurations on {} ranks", todo.size(), K,
                 session.size());

  // Representations of the model currently held, keyed by (set, model).
  std::pair<int, int> held_key{-1, -1};
  std::vector<metrics::Representation> held;
  // Per-unit terms computed while scoring (cknna's self terms), kept across
  // loads so that each is computed once per rank.
  std::map<std::size_t, std::map<int, double>> memo;
  auto load = [&](int set, int model) {
    std::vector<metrics::Representation> reps;
    for (int l : plan.models[static_cast<std::size_t>(model)].layers) {
      const auto u = unit_of.at({set, model, l});
      PRH_ASSERT(cache.done(u), "reduce: unit {} (set {}, model {}, layer {}) was not prepared", u,
                 set, model, l);
      reps.push_back(cache.read(u));
      reps.back().cknna_self = memo[u];
    }
    return reps;
  };
  auto remember = [&](int set, int model, const std::vector<metrics::Representation>& reps) {
    const auto& layers = plan.models[static_cast<std::size_t>(model)].layers;
    for (std::size_t l = 0; l < reps.size(); ++l)
      memo[unit_of.at({set, model, layers[l]})] = reps[l].cknna_self;
  };
  int nan_warnings = 0;
  const auto outcome = run_units(session, up, [&](std::size_t t) {
    const int s = todo[t].set;
    const auto [i, j] = L.pair_at(todo[t].pair);
    if (held_key != std::make_pair(s, i)) {
      held.clear();
      held = load(s, i);
      held_key = {s, i};
    }
    std::vector<metrics::Representation> other;
    if (j != i) other = load(s, j);
    const auto& A = held;
    const auto& B = j == i ? held : other;
    std::vector<MetricSpec> sym, asym;
    std::vector<int> sym_idx, asym_idx;
    for (int c = 0; c < K; ++c) {
      if (writer.done(s, c, todo[t].pair)) continue;
      if (specs[static_cast<std::size_t>(c)].symmetric() || i == j)
        sym.push_back(specs[static_cast<std::size_t>(c)]), sym_idx.push_back(c);
      else
        asym.push_back(specs[static_cast<std::size_t>(c)]), asym_idx.push_back(c);
    }
    const auto& ml = plan.models;
    // i and j by copy: a lambda may not capture structured bindings before
    // C++20 (clang 14, the sanitize preset, refuses; GCC allows it).
    auto on_nan = [&, i = i, j = j](const MetricSpec& spec, int la, int lb,
                                    const std::string& why) {
      if (++nan_warnings <= 20)
        spdlog::warn("image set '{}', {} on models '{}' (layer {}) and '{}' (layer {}): NaN: {}",
                     L.sets[static_cast<std::size_t>(s)].name, spec.name(), L.models[i],
                     ml[i].layers[la], L.models[j], ml[j].layers[lb], why);
      else if (nan_warnings == 21)
        spdlog::warn("further NaN warnings on this rank are not shown");
    };
    auto store_layer = [&](int model, int l) {
      return l < 0 ? -1 : ml[static_cast<std::size_t>(model)].layers[static_cast<std::size_t>(l)];
    };
    if (!sym.empty()) {
      const auto best = metrics::compare_models(A, B, sym, on_nan, backend);
      for (std::size_t c = 0; c < sym.size(); ++c) {
        const auto& b = best[c];
        writer.write(s, sym_idx[c], i, j, b.score, store_layer(i, b.layer_a),
                     store_layer(j, b.layer_b), b.score, store_layer(j, b.layer_b),
                     store_layer(i, b.layer_a));
      }
    }
    if (!asym.empty()) {
      const auto ab = metrics::compare_models(A, B, asym, on_nan, backend);
      const auto ba = metrics::compare_models(B, A, asym, on_nan, backend);
      for (std::size_t c = 0; c < asym.size(); ++c)
        writer.write(s, asym_idx[c], i, j, ab[c].score, store_layer(i, ab[c].layer_a),
                     store_layer(j, ab[c].layer_b), ba[c].score, store_layer(j, ba[c].layer_a),
                     store_layer(i, ba[c].layer_b));
    }
    remember(s, i, A);
    if (j != i) remember(s, j, B);
    for (int c : sym_idx) writer.mark_done(s, c, todo[t].pair);
    for (int c : asym_idx) writer.mark_done(s, c, todo[t].pair);
  });
  return outcome.done;
}

// Which configurations are calibrated (docs/calibration.md): those listed in
// calibration.metrics (each must be one of the sweep's, and its null must be
// implemented), or else every configuration whose null is implemented (the
// others are skipped, named in `skipped`).
store::CalibrationLayout calibration_layout(const config::Sweep& sweep,
                                            const std::vector<MetricSpec>& specs,
                                            std::vector<int>& spec_of) {
  store::CalibrationLayout c;
  spec_of.clear();
  const auto& cal = sweep.calibration;
  if (cal.permutations <= 0) return c;
  c.permutations = cal.permutations;
  c.alpha = cal.alpha;
  c.seed = cal.seed;
  std::vector<std::string> problems;
  if (!cal.metrics.empty()) {
    std::vector<std::string> parse_problems;
    const auto listed = metrics::parse_metric_list(cal.metrics, parse_problems);
    for (const auto& e : parse_problems) problems.push_back("calibration.metrics: " + e);
    for (const auto& m : listed) {
      const auto it = std::find(specs.begin(), specs.end(), m.spec);
      if (it == specs.end()) {
        problems.push_back(fmt::format(
            "calibration.metrics: {} is not one of the sweep's metric configurations (`metrics`)",
            m.spec.name()));
        continue;
      }
      try {
        metrics::check_calibratable({m.spec});
      } catch (const InputError& e) {
        problems.push_back(fmt::format("calibration.metrics: {}", e.what()));
        continue;
      }
      const int idx = static_cast<int>(it - specs.begin());
      if (std::find(spec_of.begin(), spec_of.end(), idx) == spec_of.end()) spec_of.push_back(idx);
    }
    std::sort(spec_of.begin(), spec_of.end());
  } else {
    for (std::size_t k = 0; k < specs.size(); ++k) {
      try {
        metrics::check_calibratable({specs[k]});
        spec_of.push_back(static_cast<int>(k));
      } catch (const InputError&) {
        c.skipped.push_back(specs[k].name());
      }
    }
  }
  if (!problems.empty()) {
    std::string msg = fmt::format("{}: bad calibration settings:", sweep.file);
    for (const auto& p : problems) msg += "\n  - " + p;
    throw InputError(msg);
  }
  for (int k : spec_of) c.configurations.push_back(specs[static_cast<std::size_t>(k)].name());
  return c;
}

// Phase 2b: the permutation null of every pair i < j (both orientations for
// asymmetric configurations), for every calibrated configuration.
std::int64_t calibrate_pairs(const Plan& plan, const store::ResultsLayout& L,
                             const std::vector<MetricSpec>& specs, const std::vector<int>& spec_of,
                             const store::CalibrationLayout& cal,
                             const std::map<std::tuple<int, int, int>, std::size_t>& unit_of,
                             store::PrepCache& cache, store::CalibrationWriter& writer,
                             const parallel::Session& session, const metrics::Backend& backend) {
  const int M = static_cast<int>(L.models.size());
  struct Todo {
    int set;
    std::int64_t pair;
  };
  std::vector<Todo> todo;
  std::vector<double> weight;
  for (std::size_t s = 0; s < plan.sets.size(); ++s)
    for (std::int64_t p = 0; p < store::CalibrationLayout::pairs(M); ++p) {
      const auto [i, j] = store::CalibrationLayout::pair_at(M, p);
      if (!plan.sets[s].present[static_cast<std::size_t>(i)] ||
          !plan.sets[s].present[static_cast<std::size_t>(j)] || writer.done(static_cast<int>(s), p))
        continue;
      todo.push_back({static_cast<int>(s), p});
      double w = 0;
      const auto& mi = plan.models[static_cast<std::size_t>(i)];
      const auto& mj = plan.models[static_cast<std::size_t>(j)];
      for (int li : mi.layers)
        for (int lj : mj.layers)
          w += static_cast<double>(mi.layer_dims[static_cast<std::size_t>(li)]) *
                   static_cast<double>(mj.layer_dims[static_cast<std::size_t>(lj)]) +
               static_cast<double>(plan.sets[s].n);
      weight.push_back(w * static_cast<double>(plan.sets[s].n) * cal.permutations);
    }
  std::vector<MetricSpec> cspecs, aspecs;  // calibrated; the asymmetric among them
  std::vector<int> asym_of;                // index in cspecs of each aspecs entry
  for (int k : spec_of) {
    cspecs.push_back(specs[static_cast<std::size_t>(k)]);
    if (!cspecs.back().symmetric()) {
      aspecs.push_back(cspecs.back());
      asym_of.push_back(static_cast<int>(cspecs.size()) - 1);
    }
  }
  UnitPlan up;
  up.stage = "calibrate";
  up.unit = "model pairs";
  up.cost = weight;
  up.done.assign(todo.size(), 0);
  up.log_every_s = 10;
  if (session.root() && !todo.empty())
    spdlog::info(
        "reduce: calibrating {} model pairs x {} configurations, {} permutations, on {} "
        "ranks",
        todo.size(), cspecs.size(), cal.permutations, session.size());
  // The neighbour lists are cut to the largest k calibrated (the cache holds
  // the largest k of every configuration; the first k of a list are the top-k
  // list, so scores are unchanged and each permutation relabels less).
  int kmax = 0;
  for (const auto& sp : cspecs)
    if (sp.uses_knn()) kmax = std::max(kmax, sp.k);
  auto load = [&](int set, int model) {
    std::vector<metrics::Representation> reps;
    for (int l : plan.models[static_cast<std::size_t>(model)].layers) {
      const auto u = unit_of.at({set, model, l});
      PRH_ASSERT(cache.done(u), "reduce: unit {} was not prepared", u);
      reps.push_back(cache.read(u));
      auto& nb = reps.back().neighbors;
      if (nb && kmax == 0)
        nb.reset();
      else if (nb && nb->k > kmax)
        nb = nb->prefix(kmax);
    }
    return reps;
  };
  // The permutations of n rows (the same for every pair of a set), drawn once
  // per rank: permutation t is seeded_permutation(seed, t, n).
  std::map<std::int64_t, std::vector<metrics::Permutation>> perms;
  std::pair<int, int> held_key{-1, -1};
  std::vector<metrics::Representation> held;
  const auto K = static_cast<std::size_t>(cal.permutations);
  const auto outcome = run_units(session, up, [&](std::size_t t) {
    const int s = todo[t].set;
    const auto [i, j] = store::CalibrationLayout::pair_at(M, todo[t].pair);
    const std::int64_t n = plan.sets[static_cast<std::size_t>(s)].n;
    auto& ps = perms[n];
    if (ps.empty())
      for (std::size_t k = 0; k < K; ++k) ps.push_back(stats::seeded_permutation(cal.seed, k, n));
    if (held_key != std::make_pair(s, i)) {
      held.clear();
      held = load(s, i);
      held_key = {s, i};
    }
    const auto other = load(s, j);
    const auto& A = held;
    const auto& B = other;
    // Observed scores, as the score stage computes them.
    const auto obs_ab = metrics::compare_models(A, B, cspecs, {}, backend);
    const auto obs_ba = aspecs.empty() ? std::vector<metrics::LayerMax>{}
                                       : metrics::compare_models(B, A, aspecs, {}, backend);
    std::vector<std::vector<double>> null_ab(cspecs.size(), std::vector<double>(K));
    std::vector<std::vector<double>> null_ba(aspecs.size(), std::vector<double>(K));
    // What a permutation cannot change is computed once per pair and
    // orientation (metrics::PairNull); each permutation then relabels only.
    metrics::PairNull fast_ab(A, B, cspecs, backend);
    std::optional<metrics::PairNull> fast_ba;
    if (!aspecs.empty()) fast_ba.emplace(B, A, aspecs, backend);
    for (std::size_t k = 0; k < K; ++k) {
      const auto ab = fast_ab.layer_max(ps[k]);
      for (std::size_t c = 0; c < cspecs.size(); ++c) null_ab[c][k] = ab[c];
      if (fast_ba) {
        const auto ba = fast_ba->layer_max(ps[k]);
        for (std::size_t c = 0; c < aspecs.size(); ++c) null_ba[c][k] = ba[c];
      }
    }
    auto cell = [&](double observed, const std::vector<double>& null) {
      const auto r = stats::calibrate(observed, null, cal.alpha);
      return store::CalibrationCell{r.pvalue, r.threshold, r.calibrated, r.null_mean, r.null_sd};
    };
    for (std::size_t c = 0; c < cspecs.size(); ++c) {
      const auto x = cell(obs_ab[c].score, null_ab[c]);
      writer.write(s, static_cast<int>(c), i, j, x);
      if (cspecs[c].symmetric()) writer.write(s, static_cast<int>(c), j, i, x);
      writer.write_null(s, static_cast<int>(c), todo[t].pair, null_ab[c]);
    }
    for (std::size_t c = 0; c < aspecs.size(); ++c) {
      writer.write(s, asym_of[c], j, i, cell(obs_ba[c].score, null_ba[c]));
      writer.write_null(s, asym_of[c], todo[t].pair, null_ba[c], /*reverse=*/true);
    }
    writer.mark_done(s, todo[t].pair);
  });
  return outcome.done;
}

// The stream of the sweep seed that the Mantel relabellings draw from
// (stats::stream_seed; "mantel" in ASCII).
constexpr std::uint64_t kMantelStream = 0x6d616e74656cULL;

// Phase 3 (rank 0): the tables derived from the alignment and predictions.
store::Derived derive(const config::Sweep& sweep, const Plan& plan, const store::ResultsLayout& L,
                      const std::string& hash, const store::CalibrationLayout& cal,
                      const std::vector<int>& spec_of) {
  store::Derived d;
  for (const auto& c : L.configurations) d.configurations.push_back(c.name);
  d.methods = sweep.correlations;
  d.bootstrap = sweep.bootstrap;
  d.mantel = sweep.mantel;
  d.confidence = sweep.confidence;
  d.seed = sweep.seed;
  d.hash = hash;
  const int M = static_cast<int>(L.models.size());
  const std::size_t K = L.configurations.size();
  stats::BootstrapOptions bo;
  bo.resamples = sweep.bootstrap;
  bo.confidence = sweep.confidence;
  bo.seed = sweep.seed;
  std::vector<std::vector<std::vector<double>>> matrices(plan.sets.size());
  store::StoreReader st(sweep.store);
  std::vector<stats::LabelSpace> model_spaces;  // [M]
  for (const auto& name : L.models) {
    stats::LabelSpace ms;
    for (const auto& m : sweep.models)
      if (m.name == name) ms = model_label_space(m);
    model_spaces.push_back(ms);
    d.model_label_spaces.push_back(stats::label_space_text(ms));
  }
  for (std::size_t s = 0; s < plan.sets.size(); ++s) {
    const auto& ps = plan.sets[s];
    store::SetDerived sd;
    sd.set = ps.name;
    for (const auto& c : L.configurations)
      matrices[s].push_back(store::read_scores(sweep.results, ps.name, c.name));
    std::int64_t present = 0;
    for (auto x : ps.present) present += x;
    sd.model_pairs = present * (present - 1) / 2;
    sd.mean_alignment.reserve(K * static_cast<std::size_t>(M));
    for (const auto& mat : matrices[s]) {
      const auto ma = stats::mean_alignment(mat, M);
      sd.mean_alignment.insert(sd.mean_alignment.end(), ma.begin(), ma.end());
    }
    // Predictions over the rows used.
    std::vector<stats::ModelPredictions> preds(static_cast<std::size_t>(M));
    std::vector<std::int64_t> labels;
    if (st.has_set(ps.name)) {
      const auto ss = st.set(ps.name);
      std::vector<char> keep(static_cast<std::size_t>(ss.n), 1);
      for (auto r : ps.skipped_rows) keep[static_cast<std::size_t>(r)] = 0;
      for (std::int64_t r = 0; r < ss.n; ++r)
        if (keep[static_cast<std::size_t>(r)])
          labels.push_back(ss.labels[static_cast<std::size_t>(r)]);
      for (int m = 0; m < M; ++m) {
        if (!ps.present[static_cast<std::size_t>(m)]) continue;
        std::vector<std::int64_t> top1;
        std::vector<float> prob;
        st.read_predictions(ps.name, L.models[static_cast<std::size_t>(m)], top1, prob);
        if (top1.empty()) continue;
        auto& p = preds[static_cast<std::size_t>(m)];
        p.has_head = true;
        p.classes = plan.models[static_cast<std::size_t>(m)].classes;
        for (std::int64_t r = 0; r < ss.n; ++r)
          if (keep[static_cast<std::size_t>(r)]) {
            p.top1.push_back(top1[static_cast<std::size_t>(r)]);
            p.prob.push_back(prob[static_cast<std::size_t>(r)]);
          }
      }
    }
    // Accuracy only where the model's label space matches the set's.
    const auto set_space = set_label_space(sweep, ps.name, labels);
    sd.label_space = stats::label_space_text(set_space);
    for (int m = 0; m < M; ++m) {
      const int match = label_match(model_spaces[static_cast<std::size_t>(m)], set_space);
      sd.labels_match.push_back(match);
      preds[static_cast<std::size_t>(m)].labels_match = match != 0;
    }
    const auto ps_sum = stats::summarize_predictions(preds, labels);
    sd.n = ps_sum.n;
    sd.labelled = ps_sum.labelled;
    sd.accuracy = ps_sum.accuracy;
    sd.mean_prob = ps_sum.mean_prob;
    sd.mean_prob_wrong = ps_sum.mean_prob_wrong;
    sd.agreement = ps_sum.agreement;
    sd.agreement_both_wrong = ps_sum.agreement_both_wrong;
    sd.both_wrong = ps_sum.both_wrong;
    // Calibration: Benjamini-Hochberg over the pairs of each configuration
    // (i < j for symmetric configurations, mirrored; both orientations i != j
    // for asymmetric ones), and the null scores of the correlation null.
    std::vector<std::vector<float>> nulls(K);  // [config][P*Kperm], empty if not calibrated
    std::vector<std::vector<double>> nd(K);    // the same in double
    const std::int64_t P = store::CalibrationLayout::pairs(M);
    if (cal.enabled()) {
      for (std::size_t c = 0; c < spec_of.size(); ++c) {
        const auto& cname = cal.configurations[c];
        const auto pv = store::read_calibration(sweep.results, ps.name, cname, "pvalue");
        const bool sym = L.configurations[static_cast<std::size_t>(spec_of[c])].symmetric;
        std::vector<double> p;
        std::vector<std::size_t> where;
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < M; ++j) {
            if (i == j || (sym && j < i)) continue;
            const auto x = static_cast<std::size_t>(i * M + j);
            p.push_back(pv[x]);
            where.push_back(x);
          }
        const auto q = stats::bh_qvalues(p);
        std::vector<double> qm(static_cast<std::size_t>(M) * M, std::nan(""));
        for (std::size_t k = 0; k < where.size(); ++k) {
          qm[where[k]] = q[k];
          if (sym) qm[(where[k] % M) * M + where[k] / M] = q[k];
        }
        sd.qvalues.push_back({cname, std::move(qm)});
        nulls[static_cast<std::size_t>(spec_of[c])] =
            store::read_null_scores(sweep.results, ps.name, cname);
      }
      // The share of each calibrated configuration's score variance across
      // the pairs i < j that chance explains (docs/calibration.md).
      sd.chance_share.assign(K, std::nan(""));
      for (std::size_t k = 0; k < K; ++k) {
        if (nulls[k].empty()) continue;
        nd[k].assign(nulls[k].begin(), nulls[k].end());
        std::vector<double> obs(static_cast<std::size_t>(P));
        for (std::int64_t p = 0; p < P; ++p) {
          const auto [i, j] = store::CalibrationLayout::pair_at(M, p);
          obs[static_cast<std::size_t>(p)] = matrices[s][k][static_cast<std::size_t>(i * M + j)];
        }
        sd.chance_share[k] =
            stats::chance_share(obs, nd[k], static_cast<std::size_t>(cal.permutations));
      }
    }
    for (const auto& method_name : sweep.correlations) {
      const auto method = stats::parse_method(method_name);
      const auto cm = stats::correlation_matrix(matrices[s], M, method, bo);
      store::CorrelationTable t;
      t.method = method_name;
      t.r = cm.r;
      t.p = cm.p;
      t.n = cm.n;
      if (bo.resamples > 0) t.ci_low = cm.ci_low, t.ci_high = cm.ci_high, t.ci_p = cm.ci_p;
      // The same model relabellings for every set and method (seeded once).
      if (sweep.mantel > 0)
        t.mantel_p = stats::mantel_matrix(matrices[s], M, method, sweep.mantel,
                                          stats::stream_seed(sweep.seed, kMantelStream));
      if (cal.enabled() && P > 0) {
        // Per permutation t, the coefficient between two configurations'
        // null scores over the pairs i < j (the same permutation t for every
        // pair), summarised against the observed coefficient
        // (stats/cross_metric.hpp).
        const auto Kp = static_cast<std::size_t>(cal.permutations);
        const double nan = std::nan("");
        t.null_mean.assign(K * K, nan);
        t.null_q95.assign(K * K, nan);
        t.null_p.assign(K * K, nan);
        for (std::size_t a = 0; a < K; ++a)
          for (std::size_t b = a; b < K; ++b) {
            if (nulls[a].empty() || nulls[b].empty()) continue;
            const auto sum = stats::correlation_null(t.r[a * K + b], nd[a], nd[b], Kp, method);
            for (auto [u, v] : {std::pair{a, b}, std::pair{b, a}}) {
              t.null_mean[u * K + v] = sum.mean;
              t.null_q95[u * K + v] = sum.q95;
              t.null_p[u * K + v] = sum.p;
            }
          }
      }
      for (std::size_t c = 0; c < K; ++c) {
        const std::vector<double> ma(
            sd.mean_alignment.begin() + static_cast<std::ptrdiff_t>(c * M),
            sd.mean_alignment.begin() + static_cast<std::ptrdiff_t>((c + 1) * M));
        const auto r = stats::correlate_finite(ma, sd.accuracy, method);
        t.acc_r.push_back(r.r);
        t.acc_p.push_back(r.p);
        t.acc_n.push_back(r.n);
      }
      sd.correlations.push_back(std::move(t));
    }
    d.sets.push_back(std::move(sd));
  }
  // Set comparisons: every two sets the config lists, and every sweep level
  // with its base (not two levels of a sweep: the sweep's curves say that,
  // and the pairs would grow with the square of the levels).
  std::map<std::string, std::string> base_of;  // a sweep level's base
  for (const auto& is : sweep.image_sets)
    if (is.sweep) base_of[is.name] = is.sweep->base;
  for (std::size_t a = 0; a < plan.sets.size(); ++a)
    for (std::size_t b = a + 1; b < plan.sets.size(); ++b) {
      const auto ba = base_of.find(plan.sets[a].name), bb = base_of.find(plan.sets[b].name);
      const bool level_a = ba != base_of.end(), level_b = bb != base_of.end();
      if ((level_a && level_b) || (level_a && ba->second != plan.sets[b].name) ||
          (level_b && bb->second != plan.sets[a].name))
        continue;
      store::SetComparison c;
      c.set_a = plan.sets[a].name;
      c.set_b = plan.sets[b].name;
      for (const auto& method_name : sweep.correlations) {
        const auto cd = stats::compare_correlations(matrices[a], matrices[b], M,
                                                    stats::parse_method(method_name), bo);
        c.methods.push_back({method_name, cd.diff, cd.ci_low, cd.ci_high, cd.p});
      }
      d.comparisons.push_back(std::move(c));
    }
  d.sweeps = derive_sweeps(sweep, d, matrices, M, cal);
  return d;
}

void log_summary(const store::Derived& d, const store::ResultsLayout& L) {
  for (const auto& s : d.sets) {
    std::string line;
    for (std::size_t c = 0; c < d.configurations.size(); ++c) {
      double sum = 0;
      int n = 0;
      for (std::size_t m = 0; m < L.models.size(); ++m) {
        const double v = s.mean_alignment[c * L.models.size() + m];
        if (std::isfinite(v)) sum += v, ++n;
      }
      line += fmt::format("{}{} {:.3f}", c ? ", " : "", d.configurations[c],
                          n ? sum / n : std::nan(""));
    }
    spdlog::info("reduce: image set '{}': mean alignment: {}", s.set, line);
  }
}

}  // namespace

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
      // Every present (set, model, layer) is a unit of the cache, so its
      // identity does not change as pairs finish.
      std::vector<store::PrepUnit> units;
      std::map<std::tuple<int, int, int>, std::size_t> unit_of;
      for (std::size_t s = 0; s < plan.sets.size(); ++s)
        for (std::size_t m = 0; m < plan.models.size(); ++m) {
          if (!plan.sets[s].present[m]) continue;
          for (int l : plan.models[m].layers) {
            unit_of[{static_cast<int>(s), static_cast<int>(m), l}] = units.size();
            units.push_back({static_cast<int>(s), static_cast<int>(m), l, plan.sets[s].n,
                             plan.models[m].layer_dims[static_cast<std::size_t>(l)]});
          }
        }
      const auto req = metrics::Requirements::of(specs);
      const auto cache_path = store::prep_cache_path(sweep.results);
      parallel::decide_on_root(
          session, [&] { store::prepare_prep_cache(cache_path, units, req, layout.identity); });
      auto cache = std::make_unique<store::PrepCache>(cache_path, units, req, session.comm());
      session.barrier();
      // Only units of models with pairs left are prepared (run_units throws
      // Stopped on every rank after a stop request: prepared units are saved).
      stats_out.units_prepared =
          prepare_units(sweep, plan, units, *cache, req, session, needed, backend);
      cache.reset();  // collective close: every unit is in the file
      // Serial HDF5: rank 0 merges every rank's journal (docs/store.md).
      session.barrier();
      parallel::decide_on_root(session, [&] { store::finish_unit_writes(cache_path); });
      cache = std::make_unique<store::PrepCache>(cache_path, units, req, session.comm());
      session.barrier();
      stats_out.pairs_scored =
          score_pairs(plan, layout, specs, unit_of, *cache, *writer, session, backend);
      if (cwriter)
        stats_out.pairs_calibrated = calibrate_pairs(plan, layout, specs, spec_of, cal, unit_of,
                                                     *cache, *cwriter, session, backend);
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
  std::vector<store::PrepUnit> units;
  std::map<std::tuple<std::size_t, std::size_t, int>, std::size_t> unit_of;
  for (std::size_t s = 0; s < plan.sets.size(); ++s)
    for (std::size_t m = 0; m < plan.models.size(); ++m) {
      if (!plan.sets[s].present[m]) continue;
      for (int l : plan.models[m].layers) {
        unit_of[{s, m, l}] = units.size();
        units.push_back({static_cast<int>(s), static_cast<int>(m), l, plan.sets[s].n,
                         plan.models[m].layer_dims[static_cast<std::size_t>(l)]});
      }
    }
  const auto prep =
      needed.empty() ? store::PrepProgress{}
                     : store::read_prep_progress(sweep.results, units,
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
    for (int l : pm.layers) {
      ++o.prepare_needed;
      const auto it = unit_of.find({s, m, l});
      if (it != unit_of.end() && !prep.done.empty() && prep.done[it->second])
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
