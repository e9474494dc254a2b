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

namespace {

// The layer-by-layer scores of B against A for a symmetric configuration:
// the transpose.
metrics::LayerScores transpose(const metrics::LayerScores& x) {
  metrics::LayerScores t;
  t.rows = x.cols;
  t.cols = x.rows;
  t.v.resize(x.v.size());
  for (int l = 0; l < x.rows; ++l)
    for (int m = 0; m < x.cols; ++m)
      t.v[static_cast<std::size_t>(m) * static_cast<std::size_t>(x.rows) +
          static_cast<std::size_t>(l)] = x.at(l, m);
  return t;
}

// The score stage's unit: one model pair (i, j) of one set, every
// configuration not yet done, written and then flagged.
class PairScorer {
 public:
  PairScorer(const Plan& plan, const store::ResultsLayout& L, const std::vector<MetricSpec>& specs,
             const PrepUnits& pu, store::PrepCache& cache, store::AlignmentWriter& writer,
             const store::LayersLayout& ll, const metrics::Backend& backend)
      : plan_(plan),
        L_(L),
        specs_(specs),
        pu_(pu),
        cache_(cache),
        writer_(writer),
        backend_(backend),
        profile_(ll.enabled) {
    if (profile_) lwriter_ = std::make_unique<store::LayerMatrixWriter>(writer, L, ll);
  }

  void score(int s, std::int64_t pair) {
    const auto [i, j] = L_.pair_at(pair);
    const auto& A = held_.get(s, i, [&](int set, int model) { return load(set, model); });
    std::vector<metrics::Representation> other;
    if (j != i) other = load(s, j);
    const auto& B = j == i ? A : other;
    // The configurations left, symmetric (or i == j) and asymmetric.
    std::vector<MetricSpec> sym, asym;
    std::vector<int> sym_idx, asym_idx;
    for (int c = 0; c < static_cast<int>(specs_.size()); ++c) {
      if (writer_.done(s, c, pair)) continue;
      if (specs_[static_cast<std::size_t>(c)].symmetric() || i == j)
        sym.push_back(specs_[static_cast<std::size_t>(c)]), sym_idx.push_back(c);
      else
        asym.push_back(specs_[static_cast<std::size_t>(c)]), asym_idx.push_back(c);
    }
    if (!sym.empty()) score_symmetric(s, i, j, A, B, sym, sym_idx);
    if (!asym.empty()) score_asymmetric(s, i, j, A, B, asym, asym_idx);
    remember(s, i, A);
    if (j != i) remember(s, j, B);
    for (int c : sym_idx) writer_.mark_done(s, c, pair);
    for (int c : asym_idx) writer_.mark_done(s, c, pair);
  }

 private:
  using Reps = std::vector<metrics::Representation>;

  // A model's scored layers, with the per-unit terms computed earlier.
  Reps load(int set, int model) {
    auto reps = read_model(plan_, pu_, cache_, set, model, /*scored=*/true);
    const auto& layers = plan_.models[static_cast<std::size_t>(model)].scored_layers();
    for (std::size_t l = 0; l < reps.size(); ++l)
      reps[l].cknna_self = memo_[pu_.index.at({set, model, layers[l]})];
    return reps;
  }

  void remember(int set, int model, const Reps& reps) {
    const auto& layers = plan_.models[static_cast<std::size_t>(model)].scored_layers();
    for (std::size_t l = 0; l < reps.size(); ++l)
      memo_[pu_.index.at({set, model, layers[l]})] = reps[l].cknna_self;
  }

  // l: an index into the model's scored layers; the store layer it is.
  int store_layer(int model, int l) const {
    return l < 0 ? -1
                 : plan_.models[static_cast<std::size_t>(model)]
                       .scored_layers()[static_cast<std::size_t>(l)];
  }

  // The positions of a model's headline layers among its scored layers.
  std::vector<int> headline(int model) const {
    const auto& m = plan_.models[static_cast<std::size_t>(model)];
    std::vector<int> pos;
    for (int l : m.layers)
      pos.push_back(
          static_cast<int>(std::find(m.scored_layers().begin(), m.scored_layers().end(), l) -
                           m.scored_layers().begin()));
    return pos;
  }

  // Warns of a NaN score (the first 20 on this rank).
  metrics::NanHandler on_nan(int s, int i, int j) {
    return [this, s, i, j](const MetricSpec& spec, int la, int lb, const std::string& why) {
      const auto& ml = plan_.models;
      if (++nan_warnings_ <= 20)
        spdlog::warn("image set '{}', {} on models '{}' (layer {}) and '{}' (layer {}): NaN: {}",
                     L_.sets[static_cast<std::size_t>(s)].name, spec.name(), L_.models[i],
                     ml[i].scored_layers()[la], L_.models[j], ml[j].scored_layers()[lb], why);
      else if (nan_warnings_ == 21)
        spdlog::warn("further NaN warnings on this rank are not shown");
    };
  }

  // The headline maxima of a (model ia) against b (model ib), and the layer
  // matrices in `all` when the profile is on; NaNs reported for set s, models
  // i and j.
  std::vector<metrics::LayerMax> compare(int s, int i, int j, const Reps& a, int ia, const Reps& b,
                                         int ib, const std::vector<MetricSpec>& sp,
                                         std::vector<metrics::LayerScores>& all) {
    if (!profile_) return metrics::compare_models(a, b, sp, on_nan(s, i, j), backend_);
    all = metrics::compare_layers(a, b, sp, on_nan(s, i, j), backend_);
    const auto rows = headline(ia), cols = headline(ib);
    std::vector<metrics::LayerMax> best;
    for (const auto& x : all) best.push_back(metrics::layer_max(x, rows, cols));
    return best;
  }

  void score_symmetric(int s, int i, int j, const Reps& A, const Reps& B,
                       const std::vector<MetricSpec>& sym, const std::vector<int>& sym_idx) {
    std::vector<metrics::LayerScores> all;
    const auto best = compare(s, i, j, A, i, B, j, sym, all);
    for (std::size_t c = 0; c < sym.size(); ++c) {
      const auto& b = best[c];
      writer_.write(s, sym_idx[c], i, j, b.score, store_layer(i, b.layer_a),
                    store_layer(j, b.layer_b), b.score, store_layer(j, b.layer_b),
                    store_layer(i, b.layer_a));
      if (profile_) lwriter_->write(s, sym_idx[c], i, j, all[c], transpose(all[c]));
    }
  }

  void score_asymmetric(int s, int i, int j, const Reps& A, const Reps& B,
                        const std::vector<MetricSpec>& asym, const std::vector<int>& asym_idx) {
    std::vector<metrics::LayerScores> all_ab, all_ba;
    const auto ab = compare(s, i, j, A, i, B, j, asym, all_ab);
    const auto ba = compare(s, i, j, B, j, A, i, asym, all_ba);
    for (std::size_t c = 0; c < asym.size(); ++c) {
      writer_.write(s, asym_idx[c], i, j, ab[c].score, store_layer(i, ab[c].layer_a),
                    store_layer(j, ab[c].layer_b), ba[c].score, store_layer(j, ba[c].layer_a),
                    store_layer(i, ba[c].layer_b));
      if (profile_) lwriter_->write(s, asym_idx[c], i, j, all_ab[c], all_ba[c]);
    }
  }

  const Plan& plan_;
  const store::ResultsLayout& L_;
  const std::vector<MetricSpec>& specs_;
  const PrepUnits& pu_;
  store::PrepCache& cache_;
  store::AlignmentWriter& writer_;
  const metrics::Backend& backend_;
  // With the layer profile every layer is scored: the headline is the
  // maximum over the headline layers' block of the layer-by-layer scores
  // (the same pairs in the same order as compare_models, so the same value).
  const bool profile_;
  std::unique_ptr<store::LayerMatrixWriter> lwriter_;
  HeldModel held_;
  // Per-unit terms computed while scoring (cknna's self terms), kept across
  // loads so that each is computed once per rank.
  std::map<std::size_t, std::map<int, double>> memo_;
  int nan_warnings_ = 0;
};

}  // namespace

std::int64_t score_pairs(const Plan& plan, const store::ResultsLayout& L,
                         const std::vector<MetricSpec>& specs, const PrepUnits& pu,
                         store::PrepCache& cache, store::AlignmentWriter& writer,
                         const store::LayersLayout& ll, const parallel::Session& session,
                         const metrics::Backend& backend) {
  const int K = static_cast<int>(specs.size());
  // A pair is left while any configuration of it is.
  auto work = pair_work(
      plan, L.pairs(), [&](std::int64_t p) { return L.pair_at(p); },
      [&](int s, std::int64_t p) {
        for (int c = 0; c < K; ++c)
          if (!writer.done(s, c, p)) return false;
        return true;
      },
      1.0, "score");
  work.plan.describe = [&](std::size_t t) {
    const auto [i, j] = L.pair_at(work.units[t].pair);
    return describe_pair(plan, work.units[t].set, i, j, /*scored=*/true);
  };
  if (session.root() && !work.units.empty())
    spdlog::info("reduce: scoring {} model pairs x {} configurations on {} ranks",
                 work.units.size(), K, session.size());
  PairScorer scorer(plan, L, specs, pu, cache, writer, ll, backend);
  const auto outcome = run_units(session, work.plan, [&](std::size_t t) {
    scorer.score(work.units[t].set, work.units[t].pair);
  });
  return outcome.done;
}

}  // namespace prh::pipeline::reduce_parts
