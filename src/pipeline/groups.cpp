#include "prh/pipeline/groups.hpp"

#include <map>
#include <set>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"
#include "prh/stats/bootstrap.hpp"
#include "prh/stats/calibration.hpp"
#include "prh/stats/correlation.hpp"
#include "prh/stats/group_effects.hpp"
#include "prh/stats/groups.hpp"
#include "prh/stats/permutation.hpp"
#include "prh/store/results_groups.hpp"

namespace prh::pipeline {

namespace {

// Streams of the sweep seed ("groups" and "groupsbt" in ASCII).
constexpr std::uint64_t kGroupsStream = 0x67726f757073ULL;
constexpr std::uint64_t kGroupsBootstrapStream = 0x67726f7570736274ULL;
// The group effects' permutations ("groupsfx").
constexpr std::uint64_t kGroupEffectsStream = 0x67726f7570736678ULL;

// Labels as small integers (-1 for ""), and whether there are two groups or more.
std::vector<int> encode(const std::vector<std::string>& names, bool& usable) {
  std::map<std::string, int> index;
  std::vector<int> out;
  for (const auto& n : names) {
    if (n.empty()) {
      out.push_back(-1);
      continue;
    }
    const auto it = index.emplace(n, static_cast<int>(index.size())).first;
    out.push_back(it->second);
  }
  usable = index.size() >= 2;
  return out;
}

}  // namespace

void analyse_groups(const config::Sweep& sweep, const store::ResultsLayout& L) {
  const int M = static_cast<int>(L.models.size());
  std::map<std::string, const config::Model*> by_name;
  for (const auto& m : sweep.models) by_name[m.name] = &m;
  std::vector<std::string> training_data, family, objective;
  for (const auto& name : L.models) {
    const auto it = by_name.find(name);
    PRH_ASSERT(it != by_name.end(), "groups: model '{}' is not in the config", name);
    training_data.push_back(it->second->training_data);
    family.push_back(it->second->family);
    objective.push_back(it->second->objective);
  }
  store::Groups g;
  for (const auto& c : L.configurations) g.configurations.push_back(c.name);
  g.permutations = kGroupPermutations;
  g.bootstrap = sweep.bootstrap;
  g.confidence = sweep.confidence;
  g.seed = static_cast<std::int64_t>(sweep.seed);
  std::vector<std::pair<std::string, std::vector<int>>> factors;
  for (const auto& [name, values] :
       {std::pair<std::string, const std::vector<std::string>*>{"training_data", &training_data},
        {"family", &family}}) {
    bool usable = false;
    auto lab = encode(*values, usable);
    if (!usable) continue;
    factors.push_back({name, std::move(lab)});
    g.factors.push_back(name);
  }
  const std::uint64_t perm_seed = stats::stream_seed(sweep.seed, kGroupsStream);
  const std::uint64_t effect_seed = stats::stream_seed(sweep.seed, kGroupEffectsStream);
  std::vector<std::vector<int>> all_labels;
  for (const auto& f : factors) all_labels.push_back(f.second);
  stats::BootstrapOptions bo;
  bo.resamples = sweep.bootstrap;
  bo.confidence = sweep.confidence;
  bo.seed = stats::stream_seed(sweep.seed, kGroupsBootstrapStream);
  const auto method = stats::parse_method(sweep.correlations.empty() ? std::string("spearman")
                                                                     : sweep.correlations.front());
  const std::size_t K = L.configurations.size();
  for (const auto& set : L.sets) {
    if (factors.empty()) break;
    store::SetGroups sg;
    sg.set = set.name;
    std::vector<std::vector<double>> mats;
    for (const auto& c : L.configurations)
      mats.push_back(store::read_scores(sweep.results, set.name, c.name));
    // The model with main effects, all factors jointly, per configuration.
    std::vector<stats::EffectTest> effects;
    for (std::size_t k = 0; k < K; ++k)
      effects.push_back(stats::test_group_effects(mats[k], M, all_labels, kGroupPermutations,
                                                  effect_seed, sweep.confidence));
    for (std::size_t fi = 0; fi < factors.size(); ++fi) {
      const auto& [name, lab] = factors[fi];
      store::GroupFactor f;
      f.factor = name;
      for (std::size_t k = 0; k < K; ++k) {
        // The raw gap's permutation test is not written (confounded by main effects).
        const auto t = stats::group_test(mats[k], M, lab, 0, perm_seed, bo);
        f.within.push_back(t.observed.within);
        f.across.push_back(t.observed.across);
        f.gap.push_back(t.observed.gap);
        f.within_low.push_back(t.within_low);
        f.within_high.push_back(t.within_high);
        f.across_low.push_back(t.across_low);
        f.across_high.push_back(t.across_high);
        f.gap_low.push_back(t.gap_low);
        f.gap_high.push_back(t.gap_high);
        f.n_within.push_back(t.observed.n_within);
        f.n_across.push_back(t.observed.n_across);
        const auto& e = effects[k];
        f.effect.push_back(e.fit.beta[fi]);
        f.effect_low.push_back(e.ci_low[fi]);
        f.effect_high.push_back(e.ci_high[fi]);
        f.effect_pvalue.push_back(e.pvalue[fi]);
        f.effect_valid.push_back(e.valid[fi]);
        f.effect_note.push_back(e.fit.reason[fi]);
      }
      sg.factors.push_back(std::move(f));
      if (name != "training_data") continue;
      // The cross-metric correlation over the cross-distribution pairs only.
      std::vector<std::vector<double>> kept;
      for (const auto& m : mats) kept.push_back(stats::keep_pairs(m, M, lab, true));
      const auto cm = stats::correlation_matrix(kept, M, method, bo);
      store::RestrictedCorrelation rc;
      rc.name = stats::method_name(method) + "_across_training_data";
      rc.r = cm.r;
      rc.p = cm.p;
      rc.n = cm.n;
      if (bo.resamples > 0) {
        rc.ci_low = cm.ci_low;
        rc.ci_high = cm.ci_high;
        rc.ci_p = cm.ci_p;
      }
      sg.correlations.push_back(std::move(rc));
    }
    g.sets.push_back(std::move(sg));
  }
  // BH over every set x factor of one configuration.
  for (std::size_t k = 0; k < K; ++k) {
    std::vector<double> p;
    for (const auto& sg : g.sets)
      for (const auto& f : sg.factors) p.push_back(f.effect_pvalue[k]);
    const auto q = stats::bh_qvalues(p);
    std::size_t x = 0;
    for (auto& sg : g.sets)
      for (auto& f : sg.factors) {
        f.effect_qvalue.resize(K);
        f.effect_qvalue[k] = q[x++];
      }
  }
  store::write_groups(sweep.results, training_data, family, objective, g);
  if (!factors.empty())
    spdlog::info("reduce: group analysis ({}) on {} sets", fmt::join(g.factors, ", "),
                 g.sets.size());
}

}  // namespace prh::pipeline
