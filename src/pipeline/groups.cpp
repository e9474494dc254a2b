#include "prh/pipeline/groups.hpp"

#include <map>
#include <set>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"
#include "prh/stats/bootstrap.hpp"
#include "prh/stats/correlation.hpp"
#include "prh/stats/groups.hpp"
#include "prh/stats/permutation.hpp"
#include "prh/store/results_groups.hpp"

namespace prh::pipeline {

namespace {

// Streams of the sweep seed ("groups" and "groupsbt" in ASCII).
constexpr std::uint64_t kGroupsStream = 0x67726f757073ULL;
constexpr std::uint64_t kGroupsBootstrapStream = 0x67726f7570736274ULL;

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
    for (const auto& [name, lab] : factors) {
      store::GroupFactor f;
      f.factor = name;
      for (std::size_t k = 0; k < K; ++k) {
        const auto t = stats::group_test(mats[k], M, lab, kGroupPermutations, perm_seed, bo);
        f.within.push_back(t.observed.within);
        f.across.push_back(t.observed.across);
        f.gap.push_back(t.observed.gap);
        f.pvalue.push_back(t.pvalue);
        f.within_low.push_back(t.within_low);
        f.within_high.push_back(t.within_high);
        f.across_low.push_back(t.across_low);
        f.across_high.push_back(t.across_high);
        f.gap_low.push_back(t.gap_low);
        f.gap_high.push_back(t.gap_high);
        f.n_within.push_back(t.observed.n_within);
        f.n_across.push_back(t.observed.n_across);
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
      }
      sg.correlations.push_back(std::move(rc));
    }
    g.sets.push_back(std::move(sg));
  }
  store::write_groups(sweep.results, training_data, family, objective, g);
  if (!factors.empty())
    spdlog::info("reduce: group analysis ({}) on {} sets", fmt::join(g.factors, ", "),
                 g.sets.size());
}

}  // namespace prh::pipeline
