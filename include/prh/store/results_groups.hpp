#pragma once
// The group analysis of results.h5 (docs/results.md, /groups): alignment
// within and across training distributions and architecture families, and
// the cross-metric correlation over cross-distribution pairs; and the models'
// labels as attributes of /models.

#include <cstdint>
#include <string>
#include <vector>

namespace prh::store {

// One factor (e.g. training_data) on one image set: per configuration [K].
// within, across, gap and their intervals: descriptive means (the gap moves
// with the models' overall alignment). effect*: the factor's coefficient in
// the model with main effects (stats/group_effects.hpp), its interval, its
// one-sided permutation p, the BH q over every set x factor of the
// configuration, the permutations with an identified fit, and why the effect
// is NaN ("" where it is not).
struct GroupFactor {
  std::string factor;
  std::vector<double> within, across, gap;
  std::vector<double> within_low, within_high, across_low, across_high, gap_low, gap_high;
  std::vector<std::int64_t> n_within, n_across;
  std::vector<double> effect, effect_low, effect_high, effect_pvalue, effect_qvalue;
  std::vector<std::int64_t> effect_valid;
  std::vector<std::string> effect_note;
};

// A correlation between configurations [K x K] over one kind of pair.
struct RestrictedCorrelation {
  std::string name;                                 // e.g. "spearman_across_training_data"
  std::vector<double> r, p, ci_low, ci_high, ci_p;  // ci_p: the interval's dual p
  std::vector<std::int64_t> n;
};

struct SetGroups {
  std::string set;
  std::vector<GroupFactor> factors;
  std::vector<RestrictedCorrelation> correlations;
};

struct Groups {
  std::vector<std::string> configurations;  // [K]
  std::vector<std::string> factors;         // analysed, e.g. training_data, family
  std::int64_t permutations = 0, bootstrap = 0, seed = 0;
  double confidence = 0.95;
  std::vector<SetGroups> sets;
};

// Writes /models attributes training_data, family, objective (JSON arrays of
// M strings, "" where not given; an attribute that no model has is not
// written) and replaces /groups with g (no /groups when g.factors is empty).
void write_groups(const std::string& path, const std::vector<std::string>& training_data,
                  const std::vector<std::string>& family, const std::vector<std::string>& objective,
                  const Groups& g);

// What read_groups finds: the models' labels ([M], "" where not given; empty
// vectors when the file has none) and /groups (factors empty when absent).
struct GroupsData {
  std::vector<std::string> training_data, family, objective;
  Groups groups;
};
GroupsData read_groups(const std::string& path);

}  // namespace prh::store
