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

// The models' labels, in the results' model order.
struct Labels {
  std::vector<std::string> training_data, family, objective;
};

Labels model_labels(const config::Sweep& sweep, const store::ResultsLayout& L) {
  std::map<std::string, const config::Model*> by_name;
  for (const auto& m : sweep.models) by_name[m.name] = &m;
  Labels x;
  for (const auto& name : L.models) {
    const auto it = by_name.find(name);
    PRH_ASSERT(it != by_name.end(), "groups: model '{}' is not in the config", name);
    x.training_data.push_back(it->second->training_data);
    x.family.push_back(it->second->family);
    x.objective.push_back(it->second->objective);
  }
  return x;
}

// The factors with two groups or more (training_data, family), as small
// integers per model.
using Factors = std::vector<std::pair<std::string, std::vector<int>>>;

Factors usable_factors(const Labels& x) {
  Factors factors;
  for (const auto& [name, values] :
       {std::pair<std::string, const std::vector<std::string>*>{"training_data", &x.training_data},
        {"family", &x.family}}) {
    bool usable = false;
    auto lab = encode(*values, usable);
    if (!usable) continue;
    factors.push_back({name, std::move(lab)});
  }
  return factors;
}

// What every set's analysis shares: the scores' shape, the factors, the
// seeds, the bootstrap and the correlation method.
struct Context {
  int M;
  std::size_t K;  // configurations
  Factors factors;
  std::vector<std::vector<int>> all_labels;  // every factor's labels
  std::uint64_t perm_seed, effect_seed;
  stats::BootstrapOptions bo;
  stats::Method method;
  double confidence;
};

// One factor of one set: within, across and gap with their intervals, and
// its effect in the model with main effects, per configuration.
store::GroupFactor group_factor(const Context& cx, std::size_t fi,
                                const std::vector<std::vector<double>>& mats,
                                const std::vector<stats::EffectTest>& effects) {
  const auto& [name, lab] = cx.factors[fi];
  store::GroupFactor f;
  f.factor = name;
  for (std::size_t k = 0; k < cx.K; ++k) {
    // The raw gap's permutation test is not written (confounded by main effects).
    const auto t = stats::group_test(mats[k], cx.M, lab, 0, cx.perm_seed, cx.bo);
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
  return f;
}

// The cross-metric correlation over the cross-distribution pairs only.
store::RestrictedCorrelation across_correlation(const Context& cx, const std::vector<int>& lab,
                                                const std::vector<std::vector<double>>& mats) {
  std::vector<std::vector<double>> kept;
  for (const auto& m : mats) kept.push_back(stats::keep_pairs(m, cx.M, lab, true));
  const auto cm = stats::correlation_matrix(kept, cx.M, cx.method, cx.bo);
  store::RestrictedCorrelation rc;
  rc.name = stats::method_name(cx.method) + "_across_training_data";
  rc.r = cm.r;
  rc.p = cm.p;
  rc.n = cm.n;
  if (cx.bo.resamples > 0) {
    rc.ci_low = cm.ci_low;
    rc.ci_high = cm.ci_high;
    rc.ci_p = cm.ci_p;
  }
  return rc;
}

// One set's group analysis, from its stored score matrices.
store::SetGroups set_groups(const config::Sweep& sweep, const store::ResultsLayout& L,
                            const std::string& set, const Context& cx) {
  store::SetGroups sg;
  sg.set = set;
  std::vector<std::vector<double>> mats;
  for (const auto& c : L.configurations)
    mats.push_back(store::read_scores(sweep.results, set, c.name));
  // The model with main effects, all factors jointly, per configuration.
  std::vector<stats::EffectTest> effects;
  for (std::size_t k = 0; k < cx.K; ++k)
    effects.push_back(stats::test_group_effects(mats[k], cx.M, cx.all_labels, kGroupPermutations,
                                                cx.effect_seed, cx.confidence));
  for (std::size_t fi = 0; fi < cx.factors.size(); ++fi) {
    sg.factors.push_back(group_factor(cx, fi, mats, effects));
    if (cx.factors[fi].first == "training_data")
      sg.correlations.push_back(across_correlation(cx, cx.factors[fi].second, mats));
  }
  return sg;
}

// BH over every set x factor of one configuration.
void add_qvalues(store::Groups& g, std::size_t K) {
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
}

}  // namespace

void analyse_groups(const config::Sweep& sweep, const store::ResultsLayout& L) {
  const Labels labels = model_labels(sweep, L);
  store::Groups g;
  for (const auto& c : L.configurations) g.configurations.push_back(c.name);
  g.permutations = kGroupPermutations;
  g.bootstrap = sweep.bootstrap;
  g.confidence = sweep.confidence;
  g.seed = static_cast<std::int64_t>(sweep.seed);
  Context cx;
  cx.M = static_cast<int>(L.models.size());
  cx.K = L.configurations.size();
  cx.factors = usable_factors(labels);
  for (const auto& f : cx.factors) g.factors.push_back(f.first);
  cx.perm_seed = stats::stream_seed(sweep.seed, kGroupsStream);
  cx.effect_seed = stats::stream_seed(sweep.seed, kGroupEffectsStream);
  for (const auto& f : cx.factors) cx.all_labels.push_back(f.second);
  cx.bo.resamples = sweep.bootstrap;
  cx.bo.confidence = sweep.confidence;
  cx.bo.seed = stats::stream_seed(sweep.seed, kGroupsBootstrapStream);
  cx.method = stats::parse_method(sweep.correlations.empty() ? std::string("spearman")
                                                             : sweep.correlations.front());
  cx.confidence = sweep.confidence;
  if (!cx.factors.empty())
    for (const auto& set : L.sets) g.sets.push_back(set_groups(sweep, L, set.name, cx));
  add_qvalues(g, cx.K);
  store::write_groups(sweep.results, labels.training_data, labels.family, labels.objective, g);
  if (!cx.factors.empty())
    spdlog::info("reduce: group analysis ({}) on {} sets", fmt::join(g.factors, ", "),
                 g.sets.size());
}

}  // namespace prh::pipeline
