#include "prh/store/results_reader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "h5.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "results_schema.hpp"

namespace prh::store {

using nlohmann::json;

namespace {

constexpr const char* kFormat = paths::kResultsFormat;

// The path of dataset `name` (a schema pattern: "scores", "{method}_ci_low") of
// the group g whose pattern is `parent`; a name the schema
// (src/schema/results_schema.cpp) does not declare there is a logic error.
std::string in(const std::string& g, std::string_view parent, std::string_view name,
               std::string_view method = "") {
  return g + "/" + schema::child(parent, name, {{"method", method}});
}

// The open file and its path, for messages that name both.
struct File {
  std::string path;
  h5::Handle handle;
  h5::Id id() const { return handle.id(); }
};

std::string shape_text(const std::vector<h5::hsize>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

bool has_group(const File& f, const std::string& path) {
  const auto kind = h5::kind(f.id(), path);
  PRH_CHECK_INPUT(kind == h5::Kind::none || kind == h5::Kind::group, "{}: '{}' is not a group",
                  f.path, path);
  return kind == h5::Kind::group;
}

bool has_dataset(const File& f, const std::string& path) {
  const auto kind = h5::kind(f.id(), path);
  PRH_CHECK_INPUT(kind == h5::Kind::none || kind == h5::Kind::dataset, "{}: '{}' is not a dataset",
                  f.path, path);
  return kind == h5::Kind::dataset;
}

h5::Handle open_object(const File& f, const std::string& path) {
  return h5::open_object(f.id(), path);
}

// The names of a group's members: in creation order where the file tracks
// it, else in name order.
std::vector<std::string> children(const File& f, const std::string& path) {
  return h5::members(open_object(f, path).id());
}

// --- Attributes ---------------------------------------------------------------

// Every element of a string attribute (any shape), fixed- or variable-length.
std::vector<std::string> attr_strings(const File& f, h5::Id obj, const std::string& where,
                                      const std::string& name) {
  auto attr = h5::open_attr(obj, name);
  PRH_CHECK_INPUT(h5::attr_class(attr) == h5::Class::string,
                  "{}: '{}': attribute '{}' is not a string", f.path, where, name);
  return h5::attr_strings(attr);
}

// A scalar (one-element) string attribute.
std::string attr_string(const File& f, h5::Id obj, const std::string& where,
                        const std::string& name) {
  auto v = attr_strings(f, obj, where, name);
  PRH_CHECK_INPUT(v.size() == 1, "{}: '{}': attribute '{}' has {} strings, expected 1", f.path,
                  where, name, v.size());
  return v[0];
}

std::string attr_string_or(const File& f, h5::Id obj, const std::string& where,
                           const std::string& name, const std::string& fallback) {
  return h5::has_attr(obj, name) ? attr_string(f, obj, where, name) : fallback;
}

// A list of strings stored as a JSON array in one string (the contract), or
// as a string array attribute.
std::vector<std::string> attr_string_list(const File& f, h5::Id obj, const std::string& where,
                                          const std::string& name) {
  auto v = attr_strings(f, obj, where, name);
  if (v.size() != 1) return v;
  std::vector<std::string> out;
  try {
    const auto j = json::parse(v[0]);
    PRH_CHECK_INPUT(j.is_array(), "{}: '{}': attribute '{}' is not a JSON list: {}", f.path, where,
                    name, v[0]);
    for (const auto& e : j) out.push_back(e.get<std::string>());
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: '{}': attribute '{}' is not a JSON list of strings: {}",
                                 f.path, where, name, e.what()));
  }
  return out;
}

// Every element of a numeric attribute, converted to `T` (native type `mem`).
template <class T>
std::vector<T> attr_numbers(const File& f, h5::Id obj, const std::string& where,
                            const std::string& name, h5::Id mem) {
  auto attr = h5::open_attr(obj, name);
  const auto cls = h5::attr_class(attr);
  PRH_CHECK_INPUT(cls == h5::Class::integer || cls == h5::Class::floating,
                  "{}: '{}': attribute '{}' is not a number", f.path, where, name);
  std::vector<T> out(h5::attr_points(attr));
  h5::read_attr(attr, mem, out.data());
  return out;
}

template <class T>
T attr_number(const File& f, h5::Id obj, const std::string& where, const std::string& name,
              h5::Id mem, T fallback) {
  if (!h5::has_attr(obj, name)) return fallback;
  auto v = attr_numbers<T>(f, obj, where, name, mem);
  PRH_CHECK_INPUT(v.size() == 1, "{}: '{}': attribute '{}' has {} values, expected 1", f.path,
                  where, name, v.size());
  return v[0];
}

std::int64_t attr_int(const File& f, h5::Id obj, const std::string& where, const std::string& name,
                      std::int64_t fallback = 0) {
  return attr_number<std::int64_t>(f, obj, where, name, h5::native_int64(), fallback);
}

double attr_double(const File& f, h5::Id obj, const std::string& where, const std::string& name) {
  return attr_number<double>(f, obj, where, name, h5::native_double(),
                             std::numeric_limits<double>::quiet_NaN());
}

// An optional numeric vector attribute of `expect` elements (empty if absent).
template <class T>
std::vector<T> attr_vector(const File& f, h5::Id obj, const std::string& where,
                           const std::string& name, h5::Id mem, std::size_t expect) {
  if (!h5::has_attr(obj, name)) return {};
  auto v = attr_numbers<T>(f, obj, where, name, mem);
  PRH_CHECK_INPUT(v.size() == expect, "{}: '{}': attribute '{}' has {} values, expected {}", f.path,
                  where, name, v.size(), expect);
  return v;
}

// --- Datasets -----------------------------------------------------------------

// A numeric dataset of exactly the shape `want`, converted to `T`.
template <class T>
std::vector<T> read_numbers(const File& f, const std::string& path, h5::Id mem,
                            const std::vector<h5::hsize>& want) {
  auto ds = h5::open_dataset(f.handle, f.path, path);
  const auto shape = h5::dataset_shape(ds);
  PRH_CHECK_INPUT(shape == want, "{}: '{}' has shape {}, expected {}", f.path, path,
                  shape_text(shape), shape_text(want));
  const auto cls = h5::dataset_class(ds);
  PRH_CHECK_INPUT(cls == h5::Class::integer || cls == h5::Class::floating,
                  "{}: '{}' is {}, expected numbers", f.path, path, h5::dataset_type_name(ds));
  std::size_t total = 1;
  for (auto d : shape) total *= d;
  std::vector<T> out(total);
  h5::read_all(ds, mem, out.data());
  return out;
}

// Like read_numbers, empty when the dataset does not exist.
template <class T>
std::vector<T> read_optional(const File& f, const std::string& path, h5::Id mem,
                             const std::vector<h5::hsize>& want) {
  if (!has_dataset(f, path)) return {};
  return read_numbers<T>(f, path, mem, want);
}

std::vector<double> read_doubles(const File& f, const std::string& path,
                                 const std::vector<h5::hsize>& want, bool optional = true) {
  if (optional) return read_optional<double>(f, path, h5::native_double(), want);
  return read_numbers<double>(f, path, h5::native_double(), want);
}

std::vector<std::int64_t> read_ints(const File& f, const std::string& path,
                                    const std::vector<h5::hsize>& want) {
  return read_optional<std::int64_t>(f, path, h5::native_int64(), want);
}

// A one-dimensional dataset of strings, fixed- or variable-length.
std::vector<std::string> read_strings(const File& f, const std::string& path) {
  auto ds = h5::open_dataset(f.handle, f.path, path);
  const auto shape = h5::dataset_shape(ds);
  PRH_CHECK_INPUT(shape.size() == 1, "{}: '{}' has shape {}, expected a list of strings", f.path,
                  path, shape_text(shape));
  PRH_CHECK_INPUT(h5::dataset_class(ds) == h5::Class::string, "{}: '{}' is {}, expected strings",
                  f.path, path, h5::dataset_type_name(ds));
  return h5::dataset_strings(ds);
}

// --- Ordering -----------------------------------------------------------------

// Image-set names in config order, from the `config` attribute (image_sets)
// or the `identity` attribute (sets): each a list of names or of objects
// with a name. Empty when neither says.
std::vector<std::string> config_set_order(const std::string& config, const std::string& identity) {
  auto names_in = [](const std::string& text, const char* key) {
    std::vector<std::string> out;
    const auto j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return out;
    for (const auto& e : j[key]) {
      if (e.is_string())
        out.push_back(e.get<std::string>());
      else if (e.is_object() && e.contains("name") && e["name"].is_string())
        out.push_back(e["name"].get<std::string>());
    }
    return out;
  };
  for (const auto& [text, key] : {std::pair{config, "image_sets"}, std::pair{config, "sets"},
                                  std::pair{identity, "sets"}, std::pair{identity, "image_sets"}}) {
    auto v = names_in(text, key);
    if (!v.empty()) return v;
  }
  return {};
}

// `names` ordered as in `order`; names not in it follow, in their own order.
std::vector<std::string> ordered(std::vector<std::string> names,
                                 const std::vector<std::string>& order) {
  auto rank = [&](const std::string& s) {
    return static_cast<std::size_t>(std::find(order.begin(), order.end(), s) - order.begin());
  };
  std::stable_sort(names.begin(), names.end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  return names;
}

// --- Groups -------------------------------------------------------------------

AlignmentResult read_alignment(const File& f, const std::string& set, const std::string& name,
                               std::size_t m) {
  const std::string g = schema::path(schema::kAlignmentConfig, {{"set", set}, {"config", name}});
  auto obj = open_object(f, g);
  AlignmentResult a;
  a.name = name;
  a.metric = attr_string_or(f, obj.id(), g, "metric", name.substr(0, name.find('@')));
  a.params = attr_string_or(f, obj.id(), g, "params", "{}");
  a.symmetric = attr_int(f, obj.id(), g, "symmetric", 1) != 0;
  a.preprocess = attr_string_or(f, obj.id(), g, "preprocess", "");
  a.last_layer_only = attr_int(f, obj.id(), g, "last_layer_only", 0) != 0;
  a.scores = read_doubles(f, in(g, schema::kAlignmentConfig, "scores"), {m, m}, /*optional=*/false);
  a.layers = read_numbers<std::int32_t>(f, in(g, schema::kAlignmentConfig, "layers"),
                                        h5::native_int32(), {m, m, 2});
  a.done = read_optional<std::uint8_t>(f, in(g, schema::kAlignmentConfig, "done"),
                                       h5::native_uint8(), {m * (m + 1) / 2});
  return a;
}

CorrelationResult read_correlation(const File& f, const std::string& set,
                                   const std::vector<std::string>& configurations, std::size_t m) {
  const std::string g = schema::path(schema::kCorrelationSet, {{"set", set}});
  auto obj = open_object(f, g);
  CorrelationResult c;
  c.configurations = h5::has_attr(obj.id(), "configurations")
                         ? attr_string_list(f, obj.id(), g, "configurations")
                         : configurations;
  if (h5::has_attr(obj.id(), "methods")) {
    c.methods = attr_string_list(f, obj.id(), g, "methods");
  } else {  // the method datasets are the names without '_'
    for (const auto& n : children(f, g))
      if (n.find('_') == std::string::npos && n != "mean") c.methods.push_back(n);
  }
  c.pairs = attr_int(f, obj.id(), g, "pairs");
  c.bootstrap = attr_int(f, obj.id(), g, "bootstrap");
  c.confidence = attr_double(f, obj.id(), g, "confidence");
  c.seed = attr_number<std::uint64_t>(f, obj.id(), g, "seed", h5::native_uint64(), 0);
  c.resampling = attr_string_or(f, obj.id(), g, "resampling", "");
  c.vector = attr_string_or(f, obj.id(), g, "vector", "");
  const h5::hsize k = c.configurations.size();
  c.mean_alignment = read_doubles(f, in(g, schema::kCorrelationSet, "mean_alignment"), {k, m});
  c.mean = read_doubles(f, in(g, schema::kCorrelationSet, "mean"), {k});
  c.mean_ci_low = read_doubles(f, in(g, schema::kCorrelationSet, "mean_ci_low"), {k});
  c.mean_ci_high = read_doubles(f, in(g, schema::kCorrelationSet, "mean_ci_high"), {k});
  c.calibrated_mean = read_doubles(f, in(g, schema::kCorrelationSet, "calibrated_mean"), {k});
  c.calibrated_mean_ci_low =
      read_doubles(f, in(g, schema::kCorrelationSet, "calibrated_mean_ci_low"), {k});
  c.calibrated_mean_ci_high =
      read_doubles(f, in(g, schema::kCorrelationSet, "calibrated_mean_ci_high"), {k});
  c.mean_seed = attr_number<std::uint64_t>(f, obj.id(), g, "mean_seed", h5::native_uint64(), 0);
  for (const auto& method : c.methods) {
    const auto at = [&](std::string_view name) {
      return in(g, schema::kCorrelationSet, name, method);
    };
    const std::string base = at("{method}");
    if (!has_dataset(f, base)) continue;  // not written (yet)
    CorrelationMethod cm;
    cm.name = method;
    cm.r = read_doubles(f, base, {k, k}, /*optional=*/false);
    cm.p = read_doubles(f, at("{method}_pvalue"), {k, k});
    cm.n = read_ints(f, at("{method}_n"), {k, k});
    cm.ci_low = read_doubles(f, at("{method}_ci_low"), {k, k});
    cm.ci_high = read_doubles(f, at("{method}_ci_high"), {k, k});
    cm.mantel_p = read_doubles(f, at("{method}_mantel_p"), {k, k});
    cm.null_mean = read_doubles(f, at("{method}_null_mean"), {k, k});
    cm.null_q95 = read_doubles(f, at("{method}_null_q95"), {k, k});
    cm.null_p = read_doubles(f, at("{method}_null_p"), {k, k});
    const std::string acc = at("accuracy_{method}");
    cm.accuracy_r = read_doubles(f, acc, {k});
    cm.accuracy_p = read_doubles(f, at("accuracy_{method}_pvalue"), {k});
    cm.accuracy_n = read_ints(f, at("accuracy_{method}_n"), {k});
    c.by_method.push_back(std::move(cm));
  }
  return c;
}

PredictionsResult read_predictions(const File& f, const std::string& set, std::size_t m) {
  const std::string g = schema::path(schema::kPredictionsSet, {{"set", set}});
  auto obj = open_object(f, g);
  PredictionsResult p;
  p.labelled = attr_int(f, obj.id(), g, "labelled");
  p.n = attr_int(f, obj.id(), g, "n");
  p.accuracy = read_doubles(f, in(g, schema::kPredictionsSet, "accuracy"), {m});
  p.mean_prob = read_doubles(f, in(g, schema::kPredictionsSet, "mean_prob"), {m});
  p.mean_prob_wrong = read_doubles(f, in(g, schema::kPredictionsSet, "mean_prob_wrong"), {m});
  p.agreement = read_doubles(f, in(g, schema::kPredictionsSet, "agreement"), {m, m});
  p.both_wrong = read_ints(f, in(g, schema::kPredictionsSet, "both_wrong"), {m, m});
  p.agreement_both_wrong =
      read_doubles(f, in(g, schema::kPredictionsSet, "agreement_both_wrong"), {m, m});
  return p;
}

ComparisonResult read_comparison(const File& f, const std::string& s1, const std::string& s2,
                                 const std::vector<std::string>& configurations) {
  const std::string g = schema::path(schema::kComparisonPair, {{"set_a", s1}, {"set_b", s2}});
  auto obj = open_object(f, g);
  ComparisonResult c;
  c.set_a = s1;
  c.set_b = s2;
  c.configurations = h5::has_attr(obj.id(), "configurations")
                         ? attr_string_list(f, obj.id(), g, "configurations")
                         : configurations;
  if (h5::has_attr(obj.id(), "methods")) {
    c.methods = attr_string_list(f, obj.id(), g, "methods");
  } else {  // the datasets {method}_diff
    const std::string suffix = "_diff";
    for (const auto& n : children(f, g))
      if (n.size() > suffix.size() &&
          n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
        c.methods.push_back(n.substr(0, n.size() - suffix.size()));
  }
  c.bootstrap = attr_int(f, obj.id(), g, "bootstrap");
  c.confidence = attr_double(f, obj.id(), g, "confidence");
  c.seed = attr_number<std::uint64_t>(f, obj.id(), g, "seed", h5::native_uint64(), 0);
  c.test = attr_string_or(f, obj.id(), g, "test", "");
  const h5::hsize k = c.configurations.size();
  for (const auto& method : c.methods) {
    const auto at = [&](std::string_view name) {
      return in(g, schema::kComparisonPair, name, method);
    };
    const std::string base = at("{method}_diff");
    if (!has_dataset(f, base)) continue;
    ComparisonMethod cm;
    cm.name = method;
    cm.diff = read_doubles(f, base, {k, k}, /*optional=*/false);
    cm.ci_low = read_doubles(f, at("{method}_diff_ci_low"), {k, k});
    cm.ci_high = read_doubles(f, at("{method}_diff_ci_high"), {k, k});
    cm.pvalue = read_doubles(f, at("{method}_diff_pvalue"), {k, k});
    c.by_method.push_back(std::move(cm));
  }
  return c;
}

SweepResult read_sweep(const File& f, const std::string& name, h5::hsize k, h5::hsize m) {
  const std::string g = schema::path(schema::kSweep, {{"sweep", name}});
  auto obj = open_object(f, g);
  SweepResult w;
  w.name = name;
  w.family = attr_string_or(f, obj.id(), g, "family", "");
  w.base = attr_string_or(f, obj.id(), g, "base", "");
  w.parameter = attr_string_or(f, obj.id(), g, "parameter", "level");
  w.method = attr_string_or(f, obj.id(), g, "method", "");
  w.description = attr_string_or(f, obj.id(), g, "description", "");
  w.alpha = attr_double(f, obj.id(), g, "alpha");
  w.confidence = attr_double(f, obj.id(), g, "confidence");
  w.breaking_fraction = attr_double(f, obj.id(), g, "breaking_fraction");
  w.sets = read_strings(f, in(g, schema::kSweep, "sets"));
  const h5::hsize L = w.sets.size();
  w.levels = read_doubles(f, in(g, schema::kSweep, "levels"), {L}, /*optional=*/false);
  w.mean = read_doubles(f, in(g, schema::kSweep, "mean"), {L, k}, false);
  w.mean_ci_low = read_doubles(f, in(g, schema::kSweep, "mean_ci_low"), {L, k});
  w.mean_ci_high = read_doubles(f, in(g, schema::kSweep, "mean_ci_high"), {L, k});
  w.calibrated_mean = read_doubles(f, in(g, schema::kSweep, "calibrated_mean"), {L, k});
  w.calibrated_ci_low = read_doubles(f, in(g, schema::kSweep, "calibrated_mean_ci_low"), {L, k});
  w.calibrated_ci_high = read_doubles(f, in(g, schema::kSweep, "calibrated_mean_ci_high"), {L, k});
  w.significant_fraction = read_doubles(f, in(g, schema::kSweep, "significant_fraction"), {L, k});
  w.significant_ci_low =
      read_doubles(f, in(g, schema::kSweep, "significant_fraction_ci_low"), {L, k});
  w.significant_ci_high =
      read_doubles(f, in(g, schema::kSweep, "significant_fraction_ci_high"), {L, k});
  w.breaking_level = read_doubles(f, in(g, schema::kSweep, "breaking_level"), {k});
  w.breaking_level_low = read_doubles(f, in(g, schema::kSweep, "breaking_level_low"), {k});
  w.breaking_level_high = read_doubles(f, in(g, schema::kSweep, "breaking_level_high"), {k});
  w.breaking_agreement = read_doubles(f, in(g, schema::kSweep, "breaking_agreement"), {k});
  // Effect-size breaking and the chance share (absent in older files).
  if (h5::has_attr(obj.id(), "relative_breaking"))
    w.relative_breaking = attr_double(f, obj.id(), g, "relative_breaking");
  w.relative = read_doubles(f, in(g, schema::kSweep, "relative_calibrated"), {L, k});
  w.relative_ci_low = read_doubles(f, in(g, schema::kSweep, "relative_calibrated_ci_low"), {L, k});
  w.relative_ci_high =
      read_doubles(f, in(g, schema::kSweep, "relative_calibrated_ci_high"), {L, k});
  w.chance_share = read_doubles(f, in(g, schema::kSweep, "chance_share"), {L, k});
  w.relative_breaking_level =
      read_doubles(f, in(g, schema::kSweep, "relative_breaking_level"), {k});
  w.relative_breaking_level_low =
      read_doubles(f, in(g, schema::kSweep, "relative_breaking_level_low"), {k});
  w.relative_breaking_level_high =
      read_doubles(f, in(g, schema::kSweep, "relative_breaking_level_high"), {k});
  w.relative_breaking_agreement =
      read_doubles(f, in(g, schema::kSweep, "relative_breaking_agreement"), {k});
  w.images = read_ints(f, in(g, schema::kSweep, "images"), {L});
  if (!w.method.empty()) {
    const auto at = [&](std::string_view n) { return in(g, schema::kSweep, n, w.method); };
    w.r = read_doubles(f, at("{method}"), {L, k, k});
    w.r_ci_low = read_doubles(f, at("{method}_ci_low"), {L, k, k});
    w.r_ci_high = read_doubles(f, at("{method}_ci_high"), {L, k, k});
    w.mantel_p = read_doubles(f, at("{method}_mantel_p"), {L, k, k});
    w.null_mean = read_doubles(f, at("{method}_null_mean"), {L, k, k});
    w.null_q95 = read_doubles(f, at("{method}_null_q95"), {L, k, k});
    w.null_p = read_doubles(f, at("{method}_null_p"), {L, k, k});
  }
  w.test_p = read_doubles(f, in(g, schema::kSweep, "correlation_p"), {L, k, k});
  w.correlation_test = read_ints(f, in(g, schema::kSweep, "correlation_test"), {k, k});
  w.correlation_breaking_level =
      read_doubles(f, in(g, schema::kSweep, "correlation_breaking_level"), {k, k});
  w.accuracy = read_doubles(f, in(g, schema::kSweep, "accuracy"), {L, m});
  w.mean_prob = read_doubles(f, in(g, schema::kSweep, "mean_prob"), {L, m});
  w.agreement = read_doubles(f, in(g, schema::kSweep, "agreement"), {L});
  return w;
}

}  // namespace

bool AlignmentResult::pair_done(std::size_t i, std::size_t j, std::size_t models) const {
  if (done.empty()) return true;
  if (i > j) std::swap(i, j);
  // Pairs (i, j), i <= j, row-major: row i starts after i*M - i*(i-1)/2 pairs.
  const std::size_t p = i * models - i * (i - 1) / 2 + (j - i);
  return p < done.size() && done[p] != 0;
}

const CorrelationMethod* CorrelationResult::find(const std::string& method) const {
  for (const auto& m : by_method)
    if (m.name == method) return &m;
  return nullptr;
}

const AlignmentResult* SetResult::find(const std::string& configuration) const {
  for (const auto& c : configurations)
    if (c.name == configuration) return &c;
  return nullptr;
}

const SetResult* ResultsData::find_set(const std::string& name) const {
  for (const auto& s : sets)
    if (s.name == name) return &s;
  return nullptr;
}

ResultsData read_results(const std::string& path) {
  h5::quiet();
  File f{path, h5::open_file_readonly(path)};
  const h5::Id root = f.id();
  ResultsData r;
  r.path = path;

  PRH_CHECK_INPUT(h5::has_attr(root, "format"),
                  "{}: not a prh results file (format: no 'format' attribute, expected '{}')", path,
                  kFormat);
  const auto format = attr_strings(f, root, "/", "format");
  r.format = format.size() == 1 ? format[0] : "";
  PRH_CHECK_INPUT(r.format == kFormat, "{}: not a prh results file (format '{}', expected '{}')",
                  path, r.format, kFormat);
  r.prh_version = attr_string_or(f, root, "/", "prh_version", "");
  r.config_hash = attr_string_or(f, root, "/", "config_hash", "");
  r.config_file = attr_string_or(f, root, "/", "config_file", "");
  r.store = attr_string_or(f, root, "/", "store", "");
  r.config = attr_string_or(f, root, "/", "config", "");
  r.identity = attr_string_or(f, root, "/", "identity", "");
  r.complete = attr_int(f, root, "/", "complete", 0) == 1;

  r.models = read_strings(f, schema::path(schema::kModels, {}));
  const std::size_t m = r.models.size();
  {
    auto obj = open_object(f, "/models");
    r.layer_counts =
        attr_vector<std::int64_t>(f, obj.id(), "/models", "layer_counts", h5::native_int64(), m);
    r.classes = attr_vector<std::int64_t>(f, obj.id(), "/models", "classes", h5::native_int64(), m);
  }
  r.configurations = read_strings(f, schema::path(schema::kConfigurations, {}));

  // Image sets: every group under /alignment, /correlation or /predictions.
  std::vector<std::string> set_names;
  for (const char* top : {"/alignment", "/correlation", "/predictions"}) {
    if (!has_group(f, top)) continue;
    for (auto& s : children(f, top))
      if (std::find(set_names.begin(), set_names.end(), s) == set_names.end())
        set_names.push_back(s);
  }
  const auto set_order = config_set_order(r.config, r.identity);
  set_names = ordered(set_names, set_order);

  for (const auto& name : set_names) {
    SetResult s;
    s.name = name;
    const std::string g = paths::alignment(name);
    if (has_group(f, g)) {
      auto obj = open_object(f, g);
      s.n = attr_int(f, obj.id(), g, "n");
      s.skipped = attr_int(f, obj.id(), g, "skipped");
      s.models_present =
          attr_vector<std::uint8_t>(f, obj.id(), g, "models_present", h5::native_uint8(), m);
      for (const auto& c : ordered(children(f, g), r.configurations)) {
        PRH_CHECK_INPUT(has_group(f, g + "/" + c), "{}: '{}/{}' is not a group", path, g, c);
        s.configurations.push_back(read_alignment(f, name, c, m));
      }
    }
    if (has_group(f, "/correlation/" + name))
      s.correlation = read_correlation(f, name, r.configurations, m);
    if (has_group(f, "/predictions/" + name)) s.predictions = read_predictions(f, name, m);
    if (const std::string cg = "/calibration/" + name; has_group(f, cg))
      for (const auto& c : ordered(children(f, cg), r.configurations)) {
        const std::string g = cg + "/" + c;
        if (c == "done" || !has_group(f, g)) continue;  // the done flags
        auto obj = open_object(f, g);
        CalibrationResult cr;
        cr.name = c;
        cr.permutations = attr_int(f, obj.id(), g, "permutations");
        cr.alpha = attr_double(f, obj.id(), g, "alpha");
        cr.pvalue = read_doubles(f, g + "/pvalue", {m, m});
        cr.qvalue = read_doubles(f, g + "/qvalue", {m, m});
        cr.threshold = read_doubles(f, g + "/threshold", {m, m});
        cr.calibrated = read_doubles(f, g + "/calibrated", {m, m});
        cr.null_mean = read_doubles(f, g + "/null_mean", {m, m});
        cr.null_sd = read_doubles(f, g + "/null_sd", {m, m});
        s.calibration.push_back(std::move(cr));
      }
    r.sets.push_back(std::move(s));
  }

  if (has_group(f, "/comparison")) {
    for (const auto& s1 : ordered(children(f, "/comparison"), set_names)) {
      if (!has_group(f, "/comparison/" + s1)) continue;
      const auto* a = r.find_set(s1);
      const auto& configs = a && a->correlation ? a->correlation->configurations : r.configurations;
      for (const auto& s2 : ordered(children(f, "/comparison/" + s1), set_names))
        if (has_group(f, "/comparison/" + s1 + "/" + s2))
          r.comparisons.push_back(read_comparison(f, s1, s2, configs));
    }
  }
  if (has_group(f, "/sweeps"))
    for (const auto& name : children(f, "/sweeps"))
      if (has_group(f, "/sweeps/" + name))
        r.sweeps.push_back(read_sweep(f, name, r.configurations.size(), r.models.size()));
  return r;
}

}  // namespace prh::store
