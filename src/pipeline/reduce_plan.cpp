// What `prh reduce` learns before it computes (reduce_parts.hpp): the plan
// from the store, the results' layout and identity, the calibrated
// configurations, the preparation cache's units.

#include <algorithm>
#include <filesystem>

#include <fmt/ranges.h>

#include "prh/core/error.hpp"
#include "prh/core/files.hpp"
#include "prh/metrics/null.hpp"
#include "prh/store/embedding_reader.hpp"
#include "prh/store/embedding_store.hpp"
#include "reduce_parts.hpp"

namespace prh::pipeline::reduce_parts {
namespace {

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

// The identity with the layer profile: the key only when it is on, so that
// files made without it keep their identity.
json identity_with_profile(const config::Sweep& sweep) {
  json j = identity_of(sweep);
  if (sweep.layer_profile) j["layer_profile"] = true;
  return j;
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
  if (sweep.layer_profile)
    for (int l = 0; l < L; ++l) pm.profile_layers.push_back(l);
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
      for (int l : plan.models[m].scored_layers()) {
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
                                    done.empty() ? (ss.n + st.shard_size() - 1) / st.shard_size()
                                                 : static_cast<std::int64_t>(done.size())));
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

}  // namespace

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
                           {"layers", m.layers},
                           {"profile_layers", m.profile_layers}});
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
                        m.at("layers").get<std::vector<int>>(),
                        m.at("profile_layers").get<std::vector<int>>()});
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
          {"layer_profile", s.layer_profile},
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
  L.identity = identity_with_profile(sweep);
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
  // 4: group effects, the comparison's percentile p, label spaces; 5: each
  // set's mean alignment and its interval, /correlation/S/mean*; 6: the
  // sweeps' chance_level).
  return config::hash_json({{"tables", 6},
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

PrepUnits prep_units(const Plan& plan) {
  PrepUnits pu;
  for (std::size_t s = 0; s < plan.sets.size(); ++s)
    for (std::size_t m = 0; m < plan.models.size(); ++m) {
      if (!plan.sets[s].present[m]) continue;
      for (int l : plan.models[m].scored_layers()) {
        pu.index[{static_cast<int>(s), static_cast<int>(m), l}] = pu.units.size();
        pu.units.push_back({static_cast<int>(s), static_cast<int>(m), l, plan.sets[s].n,
                            plan.models[m].layer_dims[static_cast<std::size_t>(l)]});
      }
    }
  return pu;
}

double pair_cost(const Plan& plan, std::size_t s, int i, int j) {
  double w = 0;
  const auto& mi = plan.models[static_cast<std::size_t>(i)];
  const auto& mj = plan.models[static_cast<std::size_t>(j)];
  for (int li : mi.scored_layers())
    for (int lj : mj.scored_layers())
      w += static_cast<double>(mi.layer_dims[static_cast<std::size_t>(li)]) *
               static_cast<double>(mj.layer_dims[static_cast<std::size_t>(lj)]) +
           static_cast<double>(plan.sets[s].n);
  return w * static_cast<double>(plan.sets[s].n);
}

PairWork pair_work(const Plan& plan, std::int64_t pairs,
                   const std::function<std::pair<int, int>(std::int64_t)>& pair_at,
                   const std::function<bool(int set, std::int64_t pair)>& done, double cost_scale,
                   const std::string& stage) {
  PairWork w;
  for (std::size_t s = 0; s < plan.sets.size(); ++s)
    for (std::int64_t p = 0; p < pairs; ++p) {
      const auto [i, j] = pair_at(p);
      if (!plan.sets[s].present[static_cast<std::size_t>(i)] ||
          !plan.sets[s].present[static_cast<std::size_t>(j)] || done(static_cast<int>(s), p))
        continue;
      w.units.push_back({static_cast<int>(s), p});
      w.plan.cost.push_back(pair_cost(plan, s, i, j) * cost_scale);
    }
  w.plan.stage = stage;
  w.plan.unit = "model pairs";
  w.plan.done.assign(w.units.size(), 0);
  w.plan.log_every_s = 10;
  return w;
}

std::vector<metrics::Representation> read_model(const Plan& plan, const PrepUnits& pu,
                                                store::PrepCache& cache, int set, int model,
                                                bool scored) {
  std::vector<metrics::Representation> reps;
  const auto& pm = plan.models[static_cast<std::size_t>(model)];
  for (int l : scored ? pm.scored_layers() : pm.layers) {
    const auto u = pu.index.at({set, model, l});
    PRH_ASSERT(cache.done(u), "reduce: unit {} (set {}, model {}, layer {}) was not prepared", u,
               set, model, l);
    reps.push_back(cache.read(u));
  }
  return reps;
}

store::LayersLayout layers_layout(const config::Sweep& sweep, const Plan& plan) {
  store::LayersLayout ll;
  if (!sweep.layer_profile) return ll;
  ll.enabled = true;
  for (const auto& m : plan.models) {
    ll.layer_counts.push_back(static_cast<std::int64_t>(m.layer_dims.size()));
    ll.max_layers = std::max(ll.max_layers, static_cast<int>(m.layer_dims.size()));
  }
  return ll;
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

}  // namespace prh::pipeline::reduce_parts
