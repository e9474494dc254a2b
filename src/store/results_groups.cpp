#include "prh/store/results_groups.hpp"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "h5.hpp"
#include "json_attr.hpp"
#include "prh/core/error.hpp"
#include "results_file.hpp"
#include "results_read.hpp"
#include "results_schema.hpp"

namespace prh::store {
namespace {

// /groups/{set}/{method}_across_training_data + suffix (a schema name), for the
// restricted correlation named `name` ("spearman_across_training_data").
std::string across(const std::string& name, std::string_view suffix) {
  const std::string tail = "_across_training_data";
  PRH_ASSERT(
      name.size() > tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0,
      "restricted correlation '{}' is not METHOD{}", name, tail);
  const std::string method = name.substr(0, name.size() - tail.size());
  return schema::child(schema::kGroupsSet, "{method}" + tail + std::string(suffix),
                       {{"method", method}});
}

}  // namespace

namespace {

// A label attribute of /models only where some model has that label (readers
// take its absence as "not recorded").
void write_labels(h5::Id f, const std::vector<std::string>& training_data,
                  const std::vector<std::string>& family,
                  const std::vector<std::string>& objective) {
  auto models = h5::open_dataset(f, schema::path(schema::kModels, {}));
  for (const auto& [name, values] :
       {std::pair{"training_data", &training_data}, std::pair{"family", &family},
        std::pair{"objective", &objective}}) {
    const bool any = std::any_of(values->begin(), values->end(),
                                 [](const std::string& v) { return !v.empty(); });
    const std::string attr = schema::attr(schema::kModels, name);
    if (any)
      h5::write_attr(models.id(), attr, nlohmann::json(*values).dump());
    else if (h5::has_attr(models.id(), attr))
      h5::delete_attr(models.id(), attr);
  }
}

// /groups's attributes: the analysis's parameters and what its numbers are.
void write_groups_attrs(h5::Id root, const Groups& g) {
  const auto attr = [](std::string_view name) { return schema::attr(schema::kGroups, name); };
  h5::write_attr(root, attr("configurations"), nlohmann::json(g.configurations).dump());
  h5::write_attr(root, attr("factors"), nlohmann::json(g.factors).dump());
  h5::write_attr(root, attr("permutations"), g.permutations);
  h5::write_attr(root, attr("bootstrap"), g.bootstrap);
  h5::write_attr(root, attr("confidence"), g.confidence);
  h5::write_attr(root, attr("seed"), g.seed);
  h5::write_attr(root, attr("score"), std::string("(scores[i, j] + scores[j, i]) / 2, i < j"));
  h5::write_attr(root, attr("descriptive"),
                 std::string("within, across, gap and their bootstrap intervals (models "
                             "resampled) are descriptive means, not a test: the gap moves with "
                             "the models' overall alignment"));
  h5::write_attr(root, attr("effect_model"),
                 std::string("OLS over the pairs i < j with a finite score: s_ij = a_i + a_j + "
                             "sum_F beta_F [label_F(i) = label_F(j)], all factors jointly"));
  h5::write_attr(root, attr("test"),
                 std::string("effect_pvalue: one-sided permutation test of beta_F > 0, F's "
                             "labels permuted over the labelled models and the fit redone: "
                             "(1 + #{beta* >= beta}) / (1 + valid); effect_ci: the hull of the "
                             "beta0 that the same permutation test, inverted, accepts at "
                             "(1 - confidence) / 2 on each side; effect_qvalue: BH over every "
                             "set x factor of one configuration"));
  h5::write_attr(root, attr("resampling"), std::string("models"));
}

// A factor's [K] datasets by schema name (/groups/{set}/{factor}/...), for the
// writer and the reader alike: the descriptive ones, then the effect's
// (written only where the effect was fitted).
template <class T>
using Fields = std::vector<std::pair<std::string_view, std::vector<T> GroupFactor::*>>;
const Fields<double> kDescriptive = {{"within", &GroupFactor::within},
                                     {"across", &GroupFactor::across},
                                     {"gap", &GroupFactor::gap},
                                     {"within_ci_low", &GroupFactor::within_low},
                                     {"within_ci_high", &GroupFactor::within_high},
                                     {"across_ci_low", &GroupFactor::across_low},
                                     {"across_ci_high", &GroupFactor::across_high},
                                     {"gap_ci_low", &GroupFactor::gap_low},
                                     {"gap_ci_high", &GroupFactor::gap_high}};
const Fields<std::int64_t> kCounts = {{"n_within", &GroupFactor::n_within},
                                      {"n_across", &GroupFactor::n_across}};
const Fields<double> kEffect = {{"effect", &GroupFactor::effect},
                                {"effect_ci_low", &GroupFactor::effect_low},
                                {"effect_ci_high", &GroupFactor::effect_high},
                                {"effect_pvalue", &GroupFactor::effect_pvalue},
                                {"effect_qvalue", &GroupFactor::effect_qvalue}};
const Fields<std::int64_t> kEffectCounts = {{"effect_permutations", &GroupFactor::effect_valid}};

void write_k(h5::Id g, std::string_view name, h5::hsize K, const std::vector<double>& v) {
  h5::write_doubles(g, schema::child(schema::kGroupsFactor, name), {K}, v);
}
void write_k(h5::Id g, std::string_view name, h5::hsize K, const std::vector<std::int64_t>& v) {
  h5::write_int64s(g, schema::child(schema::kGroupsFactor, name), {K}, v);
}

// /groups/{set}/{factor}: the descriptive means and the effect of one factor.
void write_factor(h5::Id gs, const GroupFactor& x, h5::hsize K) {
  auto gf = h5::create_group(gs, x.factor);
  for (const auto& [name, member] : kDescriptive) write_k(gf.id(), name, K, x.*member);
  for (const auto& [name, member] : kCounts) write_k(gf.id(), name, K, x.*member);
  if (x.effect.size() != K) return;
  for (const auto& [name, member] : kEffect) write_k(gf.id(), name, K, x.*member);
  for (const auto& [name, member] : kEffectCounts) write_k(gf.id(), name, K, x.*member);
  h5::write_attr(gf.id(), schema::attr(schema::kGroupsFactor, "effect_note"),
                 nlohmann::json(x.effect_note).dump());
}

// /groups/{set}/{method}_across_training_data*: one restricted correlation.
void write_restricted(h5::Id gs, const RestrictedCorrelation& c, h5::hsize K) {
  h5::write_doubles(gs, across(c.name, ""), {K, K}, c.r);
  h5::write_doubles(gs, across(c.name, "_pvalue"), {K, K}, c.p);
  h5::write_int64s(gs, across(c.name, "_n"), {K, K}, c.n);
  if (c.ci_low.empty()) return;
  h5::write_doubles(gs, across(c.name, "_ci_low"), {K, K}, c.ci_low);
  h5::write_doubles(gs, across(c.name, "_ci_high"), {K, K}, c.ci_high);
  if (!c.ci_p.empty()) h5::write_doubles(gs, across(c.name, "_ci_pvalue"), {K, K}, c.ci_p);
}

}  // namespace

void write_groups(const std::string& path, const std::vector<std::string>& training_data,
                  const std::vector<std::string>& family, const std::vector<std::string>& objective,
                  const Groups& g) {
  h5::quiet();
  h5::Handle file = detail::open_rw(path);
  const h5::Id f = file.id();
  write_labels(f, training_data, family, objective);
  h5::remove(f, schema::path(schema::kGroups, {}));
  if (g.factors.empty()) return;
  const auto K = static_cast<h5::hsize>(g.configurations.size());
  auto root = h5::create_group(f, schema::path(schema::kGroups, {}));
  write_groups_attrs(root.id(), g);
  for (const auto& s : g.sets) {
    auto gs = h5::create_group(root.id(), s.set);
    for (const auto& x : s.factors) write_factor(gs.id(), x, K);
    for (const auto& c : s.correlations) write_restricted(gs.id(), c, K);
  }
  h5::flush(f, /*global=*/true);
}

namespace {

using detail::File;
using detail::Need;

std::vector<std::string> json_strings(h5::Id obj, const std::string& name) {
  if (!h5::has_attr(obj, name)) return {};
  return detail::json_attr_strings(obj, name);
}

// /groups/{set}/{factor} as the schema declares it (dtypes, shapes [K]).
GroupFactor read_factor(const File& f, const std::string& set, const std::string& factor,
                        std::size_t k) {
  const std::string path = schema::path(schema::kGroupsFactor, {{"set", set}, {"factor", factor}});
  const schema::Sizes sz{0, k, 0, 0};
  const auto dbl = [&](std::string_view name) {
    return detail::read_declared<double>(f, path, schema::kGroupsFactor, name, sz);
  };
  const auto i64 = [&](std::string_view name) {
    return detail::read_declared<std::int64_t>(f, path, schema::kGroupsFactor, name, sz);
  };
  GroupFactor x;
  x.factor = factor;
  for (const auto* fields : {&kDescriptive, &kEffect})
    for (const auto& [name, member] : *fields) x.*member = dbl(name);
  for (const auto* fields : {&kCounts, &kEffectCounts})
    for (const auto& [name, member] : *fields) x.*member = i64(name);
  auto gf = h5::open_group(f.id(), path);
  x.effect_note = json_strings(gf.id(), schema::attr(schema::kGroupsFactor, "effect_note"));
  return x;
}

// /groups/{set}/{method}_across_training_data* (shapes [K, K]).
RestrictedCorrelation read_restricted(const File& f, const std::string& set,
                                      const std::string& method, std::size_t k) {
  const std::string path = schema::path(schema::kGroupsSet, {{"set", set}});
  const schema::Sizes sz{0, k, 0, 0};
  const auto dbl = [&](std::string_view name, Need need = Need::optional) {
    return detail::read_declared<double>(f, path, schema::kGroupsSet, name, sz, need, method);
  };
  RestrictedCorrelation c;
  c.name = method + "_across_training_data";
  c.r = dbl("{method}_across_training_data", Need::required);
  c.p = dbl("{method}_across_training_data_pvalue");
  c.n = detail::read_declared<std::int64_t>(
      f, path, schema::kGroupsSet, "{method}_across_training_data_n", sz, Need::optional, method);
  c.ci_low = dbl("{method}_across_training_data_ci_low");
  c.ci_high = dbl("{method}_across_training_data_ci_high");
  c.ci_p = dbl("{method}_across_training_data_ci_pvalue");
  return c;
}

}  // namespace

GroupsData read_groups(const std::string& path) {
  h5::quiet();
  const File f{path, h5::open_file_readonly(path)};
  GroupsData d;
  {
    auto models = h5::open_dataset(f.id(), schema::path(schema::kModels, {}));
    const auto labels = [&](std::string_view name) {
      return json_strings(models.id(), schema::attr(schema::kModels, name));
    };
    d.training_data = labels("training_data");
    d.family = labels("family");
    d.objective = labels("objective");
  }
  const std::string groups = schema::path(schema::kGroups, {});
  if (!h5::exists(f.id(), groups)) return d;
  auto root = h5::open_group(f.id(), groups);
  Groups& g = d.groups;
  const auto attr = [](std::string_view name) { return schema::attr(schema::kGroups, name); };
  g.configurations = json_strings(root.id(), attr("configurations"));
  g.factors = json_strings(root.id(), attr("factors"));
  g.permutations = h5::read_attr_int(root.id(), attr("permutations"));
  g.bootstrap = h5::read_attr_int(root.id(), attr("bootstrap"));
  g.seed = h5::read_attr_int(root.id(), attr("seed"));
  const std::size_t k = g.configurations.size();
  for (const auto& name : h5::members_by_name(root.id())) {
    auto gs = h5::open_group(root.id(), name);
    SetGroups sg;
    sg.set = name;
    for (const auto& factor : g.factors)
      if (h5::exists(gs.id(), factor)) sg.factors.push_back(read_factor(f, name, factor, k));
    for (const std::string m : {"spearman", "pearson", "kendall"})
      if (h5::exists(gs.id(), across(m + "_across_training_data", "")))
        sg.correlations.push_back(read_restricted(f, name, m, k));
    g.sets.push_back(std::move(sg));
  }
  return d;
}

}  // namespace prh::store
