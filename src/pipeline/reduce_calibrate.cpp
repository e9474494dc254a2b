// Phase 2b of `prh reduce` (reduce_parts.hpp): the permutation null of every
// model pair, for every calibrated configuration.

#include <algorithm>
#include <map>
#include <optional>

#include <spdlog/spdlog.h>

#include "prh/metrics/null.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/pipeline/stage.hpp"
#include "prh/stats/calibration.hpp"
#include "prh/stats/permutation.hpp"
#include "reduce_parts.hpp"

namespace prh::pipeline::reduce_parts {

std::int64_t calibrate_pairs(const Plan& plan, const store::ResultsLayout& L,
                             const std::vector<MetricSpec>& specs, const std::vector<int>& spec_of,
                             const store::CalibrationLayout& cal, const PrepUnits& pu,
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
      weight.push_back(pair_cost(plan, s, i, j) * cal.permutations);
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
  up.describe = [&](std::size_t t) {
    const auto [i, j] = store::CalibrationLayout::pair_at(M, todo[t].pair);
    return describe_pair(plan, todo[t].set, i, j, /*scored=*/false);
  };
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
    auto reps = read_model(plan, pu, cache, set, model);
    for (auto& rep : reps) {
      auto& nb = rep.neighbors;
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

}  // namespace prh::pipeline::reduce_parts
