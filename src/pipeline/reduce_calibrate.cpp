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

namespace {

// The calibrated configurations, the asymmetric ones among them, and the
// largest k they use.
struct Calibrated {
  std::vector<MetricSpec> specs, asym;  // calibrated; the asymmetric among them
  std::vector<int> asym_of;             // index in specs of each asym entry
  int kmax = 0;
};

Calibrated calibrated_specs(const std::vector<MetricSpec>& specs, const std::vector<int>& spec_of) {
  Calibrated c;
  for (int k : spec_of) {
    c.specs.push_back(specs[static_cast<std::size_t>(k)]);
    if (!c.specs.back().symmetric()) {
      c.asym.push_back(c.specs.back());
      c.asym_of.push_back(static_cast<int>(c.specs.size()) - 1);
    }
  }
  for (const auto& sp : c.specs)
    if (sp.uses_knn()) c.kmax = std::max(c.kmax, sp.k);
  return c;
}

// The K null scores of every configuration of one orientation.
using Nulls = std::vector<std::vector<double>>;

// The calibrate stage's unit: the permutation null of one model pair i < j
// of one set (both orientations for the asymmetric configurations), its
// calibration cells written, then flagged.
class PairCalibrator {
 public:
  PairCalibrator(const Plan& plan, const std::vector<MetricSpec>& specs,
                 const std::vector<int>& spec_of, const store::CalibrationLayout& cal,
                 const PrepUnits& pu, store::PrepCache& cache, store::CalibrationWriter& writer,
                 const metrics::Backend& backend)
      : plan_(plan),
        c_(calibrated_specs(specs, spec_of)),
        cal_(cal),
        pu_(pu),
        cache_(cache),
        writer_(writer),
        backend_(backend),
        K_(static_cast<std::size_t>(cal.permutations)) {}

  std::size_t configurations() const { return c_.specs.size(); }

  void calibrate(int s, std::int64_t pair, int i, int j) {
    const auto& ps = permutations(plan_.sets[static_cast<std::size_t>(s)].n);
    const auto& A = held_.get(s, i, [&](int set, int model) { return load(set, model); });
    const auto B = load(s, j);
    // Observed scores, as the score stage computes them.
    const auto obs_ab = metrics::compare_models(A, B, c_.specs, {}, backend_);
    const auto obs_ba = c_.asym.empty() ? std::vector<metrics::LayerMax>{}
                                        : metrics::compare_models(B, A, c_.asym, {}, backend_);
    Nulls null_ab(c_.specs.size(), std::vector<double>(K_));
    Nulls null_ba(c_.asym.size(), std::vector<double>(K_));
    null_scores(A, B, ps, null_ab, null_ba);
    for (std::size_t c = 0; c < c_.specs.size(); ++c) {
      const auto x = cell(obs_ab[c].score, null_ab[c]);
      writer_.write(s, static_cast<int>(c), i, j, x);
      if (c_.specs[c].symmetric()) writer_.write(s, static_cast<int>(c), j, i, x);
      writer_.write_null(s, static_cast<int>(c), pair, null_ab[c]);
    }
    for (std::size_t c = 0; c < c_.asym.size(); ++c) {
      writer_.write(s, c_.asym_of[c], j, i, cell(obs_ba[c].score, null_ba[c]));
      writer_.write_null(s, c_.asym_of[c], pair, null_ba[c], /*reverse=*/true);
    }
    writer_.mark_done(s, pair);
  }

 private:
  using Reps = std::vector<metrics::Representation>;

  // The neighbour lists are cut to the largest k calibrated (the cache holds
  // the largest k of every configuration; the first k of a list are the top-k
  // list, so scores are unchanged and each permutation relabels less).
  Reps load(int set, int model) {
    auto reps = read_model(plan_, pu_, cache_, set, model);
    for (auto& rep : reps) {
      auto& nb = rep.neighbors;
      if (nb && c_.kmax == 0)
        nb.reset();
      else if (nb && nb->k > c_.kmax)
        nb = nb->prefix(c_.kmax);
    }
    return reps;
  }

  // The permutations of n rows (the same for every pair of a set), drawn once
  // per rank: permutation t is seeded_permutation(seed, t, n).
  const std::vector<metrics::Permutation>& permutations(std::int64_t n) {
    auto& ps = perms_[n];
    if (ps.empty())
      for (std::size_t k = 0; k < K_; ++k) ps.push_back(stats::seeded_permutation(cal_.seed, k, n));
    return ps;
  }

  // What a permutation cannot change is computed once per pair and
  // orientation (metrics::PairNull); each permutation then relabels only.
  void null_scores(const Reps& A, const Reps& B, const std::vector<metrics::Permutation>& ps,
                   Nulls& null_ab, Nulls& null_ba) const {
    metrics::PairNull fast_ab(A, B, c_.specs, backend_);
    std::optional<metrics::PairNull> fast_ba;
    if (!c_.asym.empty()) fast_ba.emplace(B, A, c_.asym, backend_);
    for (std::size_t k = 0; k < K_; ++k) {
      const auto ab = fast_ab.layer_max(ps[k]);
      for (std::size_t c = 0; c < c_.specs.size(); ++c) null_ab[c][k] = ab[c];
      if (fast_ba) {
        const auto ba = fast_ba->layer_max(ps[k]);
        for (std::size_t c = 0; c < c_.asym.size(); ++c) null_ba[c][k] = ba[c];
      }
    }
  }

  store::CalibrationCell cell(double observed, const std::vector<double>& null) const {
    const auto r = stats::calibrate(observed, null, cal_.alpha);
    return store::CalibrationCell{r.pvalue, r.threshold, r.calibrated, r.null_mean, r.null_sd};
  }

  const Plan& plan_;
  const Calibrated c_;
  const store::CalibrationLayout& cal_;
  const PrepUnits& pu_;
  store::PrepCache& cache_;
  store::CalibrationWriter& writer_;
  const metrics::Backend& backend_;
  const std::size_t K_;  // permutations
  std::map<std::int64_t, std::vector<metrics::Permutation>> perms_;
  HeldModel held_;
};

}  // namespace

std::int64_t calibrate_pairs(const Plan& plan, const store::ResultsLayout& L,
                             const std::vector<MetricSpec>& specs, const std::vector<int>& spec_of,
                             const store::CalibrationLayout& cal, const PrepUnits& pu,
                             store::PrepCache& cache, store::CalibrationWriter& writer,
                             const parallel::Session& session, const metrics::Backend& backend) {
  const int M = static_cast<int>(L.models.size());
  auto work = pair_work(
      plan, store::CalibrationLayout::pairs(M),
      [&](std::int64_t p) { return store::CalibrationLayout::pair_at(M, p); },
      [&](int s, std::int64_t p) { return writer.done(s, p); },
      static_cast<double>(cal.permutations), "calibrate");
  work.plan.describe = [&](std::size_t t) {
    const auto [i, j] = store::CalibrationLayout::pair_at(M, work.units[t].pair);
    return describe_pair(plan, work.units[t].set, i, j, /*scored=*/false);
  };
  PairCalibrator calibrator(plan, specs, spec_of, cal, pu, cache, writer, backend);
  if (session.root() && !work.units.empty())
    spdlog::info(
        "reduce: calibrating {} model pairs x {} configurations, {} permutations, on {} "
        "ranks",
        work.units.size(), calibrator.configurations(), cal.permutations, session.size());
  const auto outcome = run_units(session, work.plan, [&](std::size_t t) {
    const auto [i, j] = store::CalibrationLayout::pair_at(M, work.units[t].pair);
    calibrator.calibrate(work.units[t].set, work.units[t].pair, i, j);
  });
  return outcome.done;
}

}  // namespace prh::pipeline::reduce_parts
