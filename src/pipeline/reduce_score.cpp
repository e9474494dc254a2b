// Phases 1 and 2 of `prh reduce` (reduce_parts.hpp): prepare every needed
// (set, model, layer) unit, then score the model pairs.

#include <algorithm>
#include <memory>

#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"
#include "prh/metrics/preprocess.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/pipeline/stage.hpp"
#include "prh/store/embedding_reader.hpp"
#include "prh/store/results_layers.hpp"
#include "reduce_parts.hpp"

namespace prh::pipeline::reduce_parts {

std::int64_t prepare_units(const config::Sweep& sweep, const Plan& plan, const PrepUnits& pu,
                           store::PrepCache& cache, const metrics::Requirements& req,
                           const parallel::Session& session,
                           const std::set<std::pair<int, int>>& needed,
                           const metrics::Backend& backend) {
  const auto& units = pu.units;
  // A unit per (set, model, layer); those of models without pairs left, and
  // those prepared earlier, are done. Longest first, each to the least
  // loaded rank (deterministic).
  UnitPlan up;
  up.stage = "prepare";
  up.unit = "(set, model, layer) units";
  up.share = Share::kBalanced;
  up.log_every_s = 10;
  up.describe = [&](std::size_t u) { return describe_unit(plan, units[u]); };
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

std::int64_t score_pairs(const Plan& plan, const store::ResultsLayout& L,
                         const std::vector<MetricSpec>& specs, const PrepUnits& pu,
                         store::PrepCache& cache, store::AlignmentWriter& writer,
                         const store::LayersLayout& ll, const parallel::Session& session,
                         const metrics::Backend& backend) {
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
      weight.push_back(pair_cost(plan, s, i, j));
    }
  }
  UnitPlan up;
  up.stage = "score";
  up.unit = "model pairs";
  up.cost = weight;
  up.done.assign(todo.size(), 0);
  up.log_every_s = 10;
  up.describe = [&](std::size_t t) {
    const auto [i, j] = L.pair_at(todo[t].pair);
    return describe_pair(plan, todo[t].set, i, j, /*scored=*/true);
  };
  if (session.root() && !todo.empty())
    spdlog::info("reduce: scoring {} model pairs x {} configurations on {} ranks", todo.size(), K,
                 session.size());

  // Representations of the model currently held, keyed by (set, model).
  std::pair<int, int> held_key{-1, -1};
  std::vector<metrics::Representation> held;
  // Per-unit terms computed while scoring (cknna's self terms), kept across
  // loads so that each is computed once per rank.
  std::map<std::size_t, std::map<int, double>> memo;
  // With the layer profile every layer is scored: the headline is the
  // maximum over the headline layers' block of the layer-by-layer scores
  // (the same pairs in the same order as compare_models, so the same value).
  const bool profile = ll.enabled;
  std::unique_ptr<store::LayerMatrixWriter> lwriter;
  if (profile) lwriter = std::make_unique<store::LayerMatrixWriter>(writer, L, ll);
  auto load = [&](int set, int model) {
    auto reps = read_model(plan, pu, cache, set, model, /*scored=*/true);
    const auto& layers = plan.models[static_cast<std::size_t>(model)].scored_layers();
    for (std::size_t l = 0; l < reps.size(); ++l)
      reps[l].cknna_self = memo[pu.index.at({set, model, layers[l]})];
    return reps;
  };
  auto remember = [&](int set, int model, const std::vector<metrics::Representation>& reps) {
    const auto& layers = plan.models[static_cast<std::size_t>(model)].scored_layers();
    for (std::size_t l = 0; l < reps.size(); ++l)
      memo[pu.index.at({set, model, layers[l]})] = reps[l].cknna_self;
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
                     ml[i].scored_layers()[la], L.models[j], ml[j].scored_layers()[lb], why);
      else if (nan_warnings == 21)
        spdlog::warn("further NaN warnings on this rank are not shown");
    };
    // l: an index into the model's scored layers; the store layer it is.
    auto store_layer = [&](int model, int l) {
      return l < 0
                 ? -1
                 : ml[static_cast<std::size_t>(model)].scored_layers()[static_cast<std::size_t>(l)];
    };
    // The positions of a model's headline layers among its scored layers.
    auto headline = [&](int model) {
      const auto& m = ml[static_cast<std::size_t>(model)];
      std::vector<int> pos;
      for (int l : m.layers)
        pos.push_back(
            static_cast<int>(std::find(m.scored_layers().begin(), m.scored_layers().end(), l) -
                             m.scored_layers().begin()));
      return pos;
    };
    // The headline maxima of A against B (and the layer matrices when the
    // profile is on).
    auto compare = [&](const std::vector<metrics::Representation>& a, int ia,
                       const std::vector<metrics::Representation>& b, int ib,
                       const std::vector<MetricSpec>& sp, std::vector<metrics::LayerScores>& all) {
      if (!profile) return metrics::compare_models(a, b, sp, on_nan, backend);
      all = metrics::compare_layers(a, b, sp, on_nan, backend);
      const auto rows = headline(ia), cols = headline(ib);
      std::vector<metrics::LayerMax> best;
      for (const auto& x : all) best.push_back(metrics::layer_max(x, rows, cols));
      return best;
    };
    // The layer-by-layer scores of B against A for a symmetric configuration:
    // the transpose.
    auto transpose = [](const metrics::LayerScores& x) {
      metrics::LayerScores t;
      t.rows = x.cols;
      t.cols = x.rows;
      t.v.resize(x.v.size());
      for (int l = 0; l < x.rows; ++l)
        for (int m = 0; m < x.cols; ++m)
          t.v[static_cast<std::size_t>(m) * static_cast<std::size_t>(x.rows) +
              static_cast<std::size_t>(l)] = x.at(l, m);
      return t;
    };
    if (!sym.empty()) {
      std::vector<metrics::LayerScores> all;
      const auto best = compare(A, i, B, j, sym, all);
      for (std::size_t c = 0; c < sym.size(); ++c) {
        const auto& b = best[c];
        writer.write(s, sym_idx[c], i, j, b.score, store_layer(i, b.layer_a),
                     store_layer(j, b.layer_b), b.score, store_layer(j, b.layer_b),
                     store_layer(i, b.layer_a));
        if (profile) lwriter->write(s, sym_idx[c], i, j, all[c], transpose(all[c]));
      }
    }
    if (!asym.empty()) {
      std::vector<metrics::LayerScores> all_ab, all_ba;
      const auto ab = compare(A, i, B, j, asym, all_ab);
      const auto ba = compare(B, j, A, i, asym, all_ba);
      for (std::size_t c = 0; c < asym.size(); ++c) {
        writer.write(s, asym_idx[c], i, j, ab[c].score, store_layer(i, ab[c].layer_a),
                     store_layer(j, ab[c].layer_b), ba[c].score, store_layer(j, ba[c].layer_a),
                     store_layer(i, ba[c].layer_b));
        if (profile) lwriter->write(s, asym_idx[c], i, j, all_ab[c], all_ba[c]);
      }
    }
    remember(s, i, A);
    if (j != i) remember(s, j, B);
    for (int c : sym_idx) writer.mark_done(s, c, todo[t].pair);
    for (int c : asym_idx) writer.mark_done(s, c, todo[t].pair);
  });
  return outcome.done;
}

}  // namespace prh::pipeline::reduce_parts
