#include "prh/store/results_groups.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "h5.hpp"
#include "json_attr.hpp"
#include "prh/core/error.hpp"
#include "results_file.hpp"
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

void write_groups(const std::string& path, const std::vector<std::string>& training_data,
                  const std::vector<std::string>& family, const std::vector<std::string>& objective,
                  const Groups& g) {
  h5::quiet();
  h5::Handle file = detail::open_rw(path);
  const h5::Id f = file.id();
  {
    // A label attribute only where some model has that label (readers take
    // its absence as "not recorded").
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
  h5::remove(f, schema::path(schema::kGroups, {}));
  if (g.factors.empty()) return;
  const auto K = static_cast<h5::hsize>(g.configurations.size());
  auto root = h5::create_group(f, schema::path(schema::kGroups, {}));
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "configurations"),
                 nlohmann::json(g.configurations).dump());
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "factors"),
                 nlohmann::json(g.factors).dump());
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "permutations"), g.permutations);
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "bootstrap"), g.bootstrap);
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "confidence"), g.confidence);
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "seed"), g.seed);
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "score"),
                 std::string("(scores[i, j] + scores[j, i]) / 2, i < j"));
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "descriptive"),
                 std::string("within, across, gap and their bootstrap intervals (models "
                             "resampled) are descriptive means, not a test: the gap moves with "
                             "the models' overall alignment"));
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "effect_model"),
                 std::string("OLS over the pairs i < j with a finite score: s_ij = a_i + a_j + "
                             "sum_F beta_F [label_F(i) = label_F(j)], all factors jointly"));
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "test"),
                 std::string("effect_pvalue: one-sided permutation test of beta_F > 0, F's "
                             "labels permuted over the labelled models and the fit redone: "
                             "(1 + #{beta* >= beta}) / (1 + valid); effect_ci: the hull of the "
                             "beta0 that the same permutation test, inverted, accepts at "
                             "(1 - confidence) / 2 on each side; effect_qvalue: BH over every "
                             "set x factor of one configuration"));
  h5::write_attr(root.id(), schema::attr(schema::kGroups, "resampling"), std::string("models"));
  for (const auto& s : g.sets) {
    auto gs = h5::create_group(root.id(), s.set);
    for (const auto& x : s.factors) {
      auto gf = h5::create_group(gs.id(), x.factor);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "within"), {K}, x.within);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "across"), {K}, x.across);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "gap"), {K}, x.gap);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "within_ci_low"), {K},
                        x.within_low);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "within_ci_high"), {K},
                        x.within_high);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "across_ci_low"), {K},
                        x.across_low);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "across_ci_high"), {K},
                        x.across_high);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "gap_ci_low"), {K},
                        x.gap_low);
      h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "gap_ci_high"), {K},
                        x.gap_high);
      h5::write_int64s(gf.id(), schema::child(schema::kGroupsFactor, "n_within"), {K}, x.n_within);
      h5::write_int64s(gf.id(), schema::child(schema::kGroupsFactor, "n_across"), {K}, x.n_across);
      if (x.effect.size() == K) {
        h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "effect"), {K}, x.effect);
        h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "effect_ci_low"), {K},
                          x.effect_low);
        h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "effect_ci_high"), {K},
                          x.effect_high);
        h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "effect_pvalue"), {K},
                          x.effect_pvalue);
        h5::write_doubles(gf.id(), schema::child(schema::kGroupsFactor, "effect_qvalue"), {K},
                          x.effect_qvalue);
        h5::write_int64s(gf.id(), schema::child(schema::kGroupsFactor, "effect_permutations"), {K},
                         x.effect_valid);
        h5::write_attr(gf.id(), schema::attr(schema::kGroupsFactor, "effect_note"),
                       nlohmann::json(x.effect_note).dump());
      }
    }
    for (const auto& c : s.correlations) {
      h5::write_doubles(gs.id(), across(c.name, ""), {K, K}, c.r);
      h5::write_doubles(gs.id(), across(c.name, "_pvalue"), {K, K}, c.p);
      h5::write_int64s(gs.id(), across(c.name, "_n"), {K, K}, c.n);
      if (!c.ci_low.empty()) {
        h5::write_doubles(gs.id(), across(c.name, "_ci_low"), {K, K}, c.ci_low);
        h5::write_doubles(gs.id(), across(c.name, "_ci_high"), {K, K}, c.ci_high);
        if (!c.ci_p.empty())
          h5::write_doubles(gs.id(), across(c.name, "_ci_pvalue"), {K, K}, c.ci_p);
      }
    }
  }
  h5::flush(f, /*global=*/true);
}

namespace {

std::vector<std::string> json_strings(h5::Id obj, const std::string& name) {
  if (!h5::has_attr(obj, name)) return {};
  return detail::json_attr_strings(obj, name);
}

template <class T>
std::vector<T> read_all(h5::Id parent, const std::string& name, h5::Id mem_type) {
  if (!h5::exists(parent, name)) return {};
  auto ds = h5::open_dataset(parent, name);
  const auto shape = h5::dataset_shape(ds);
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  std::vector<T> out(n);
  std::vector<h5::hsize> start(shape.size(), 0);
  if (n > 0) h5::read_box(ds.id(), mem_type, start, shape, out.data());
  return out;
}

}  // namespace

GroupsData read_groups(const std::string& path) {
  h5::quiet();
  auto file = h5::open_file_readonly(path);
  const h5::Id f = file.id();
  GroupsData d;
  {
    auto models = h5::open_dataset(f, schema::path(schema::kModels, {}));
    const auto labels = [&](std::string_view name) {
      return json_strings(models.id(), schema::attr(schema::kModels, name));
    };
    d.training_data = labels("training_data");
    d.family = labels("family");
    d.objective = labels("objective");
  }
  const std::string groups = schema::path(schema::kGroups, {});
  if (!h5::exists(f, groups)) return d;
  auto root = h5::open_group(f, groups);
  Groups& g = d.groups;
  g.configurations = json_strings(root.id(), schema::attr(schema::kGroups, "configurations"));
  g.factors = json_strings(root.id(), schema::attr(schema::kGroups, "factors"));
  g.permutations = h5::read_attr_int(root.id(), schema::attr(schema::kGroups, "permutations"));
  g.bootstrap = h5::read_attr_int(root.id(), schema::attr(schema::kGroups, "bootstrap"));
  g.seed = h5::read_attr_int(root.id(), schema::attr(schema::kGroups, "seed"));
  const std::vector<std::string> sets = h5::members_by_name(root.id());
  const auto dbl = [](h5::Id p, const std::string& n) {
    return read_all<double>(p, n, h5::native_double());
  };
  const auto i64 = [](h5::Id p, const std::string& n) {
    return read_all<std::int64_t>(p, n, h5::native_int64());
  };
  for (const auto& name : sets) {
    auto gs = h5::open_group(root.id(), name);
    SetGroups sg;
    sg.set = name;
    for (const auto& factor : g.factors) {
      if (!h5::exists(gs.id(), factor)) continue;
      auto gf = h5::open_group(gs.id(), factor);
      GroupFactor x;
      x.factor = factor;
      x.within = dbl(gf.id(), schema::child(schema::kGroupsFactor, "within"));
      x.across = dbl(gf.id(), schema::child(schema::kGroupsFactor, "across"));
      x.gap = dbl(gf.id(), schema::child(schema::kGroupsFactor, "gap"));
      x.within_low = dbl(gf.id(), schema::child(schema::kGroupsFactor, "within_ci_low"));
      x.within_high = dbl(gf.id(), schema::child(schema::kGroupsFactor, "within_ci_high"));
      x.across_low = dbl(gf.id(), schema::child(schema::kGroupsFactor, "across_ci_low"));
      x.across_high = dbl(gf.id(), schema::child(schema::kGroupsFactor, "across_ci_high"));
      x.gap_low = dbl(gf.id(), schema::child(schema::kGroupsFactor, "gap_ci_low"));
      x.gap_high = dbl(gf.id(), schema::child(schema::kGroupsFactor, "gap_ci_high"));
      x.n_within = i64(gf.id(), schema::child(schema::kGroupsFactor, "n_within"));
      x.n_across = i64(gf.id(), schema::child(schema::kGroupsFactor, "n_across"));
      x.effect = dbl(gf.id(), schema::child(schema::kGroupsFactor, "effect"));
      x.effect_low = dbl(gf.id(), schema::child(schema::kGroupsFactor, "effect_ci_low"));
      x.effect_high = dbl(gf.id(), schema::child(schema::kGroupsFactor, "effect_ci_high"));
      x.effect_pvalue = dbl(gf.id(), schema::child(schema::kGroupsFactor, "effect_pvalue"));
      x.effect_qvalue = dbl(gf.id(), schema::child(schema::kGroupsFactor, "effect_qvalue"));
      x.effect_valid = i64(gf.id(), schema::child(schema::kGroupsFactor, "effect_permutations"));
      x.effect_note = json_strings(gf.id(), schema::attr(schema::kGroupsFactor, "effect_note"));
      sg.factors.push_back(std::move(x));
    }
    for (const std::string m : {"spearman", "pearson", "kendall"}) {
      const std::string n = m + "_across_training_data";
      if (!h5::exists(gs.id(), n)) continue;
      RestrictedCorrelation c;
      c.name = n;
      c.r = dbl(gs.id(), across(n, ""));
      c.p = dbl(gs.id(), across(n, "_pvalue"));
      c.n = i64(gs.id(), across(n, "_n"));
      c.ci_low = dbl(gs.id(), across(n, "_ci_low"));
      c.ci_high = dbl(gs.id(), across(n, "_ci_high"));
      c.ci_p = dbl(gs.id(), across(n, "_ci_pvalue"));
      sg.correlations.push_back(std::move(c));
    }
    g.sets.push_back(std::move(sg));
  }
  return d;
}

}  // namespace prh::store
