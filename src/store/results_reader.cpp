#include "prh/store/results_reader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "h5.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "results_read.hpp"
#include "results_schema.hpp"

namespace prh::store {

using nlohmann::json;

namespace {

using detail::File;
using detail::has_dataset;
using detail::Need;
using detail::shape_text;

// An open object of the file with its path and its schema pattern
// (src/schema/results_schema.cpp): its attributes and datasets are read by the
// names, dtypes and shapes the schema declares for that pattern (a name it
// does not declare there is a logic error).
struct Obj {
  const File& f;
  std::string path;
  std::string_view pattern;
  h5::Handle handle;  // invalid for the root, which is read through the file
  h5::Id id() const { return handle ? handle.id() : f.id(); }
  std::string attr(std::string_view name) const { return schema::attr(pattern, name); }
  bool has(std::string_view name) const { return h5::has_attr(id(), attr(name)); }
};

Obj open_obj(const File& f, const std::string& path, std::string_view pattern) {
  return {f, path, pattern, h5::open_object(f.id(), path)};
}

Obj root_obj(const File& f) {
  return {f, "/", schema::kRoot, h5::Handle()};
}

bool has_group(const File& f, const std::string& path) {
  const auto kind = h5::kind(f.id(), path);
  PRH_CHECK_INPUT(kind == h5::Kind::none || kind == h5::Kind::group, "{}: '{}' is not a group",
                  f.path, path);
  return kind == h5::Kind::group;
}

// The names of a group's members: in creation order where the file tracks
// it, else in name order.
std::vector<std::string> children(const File& f, const std::string& path) {
  return h5::members(h5::open_object(f.id(), path).id());
}

// --- Attributes ---------------------------------------------------------------

// Every element of a string attribute (any shape), fixed- or variable-length.
std::vector<std::string> attr_strings(const Obj& o, std::string_view name) {
  const std::string a = o.attr(name);
  auto attr = h5::open_attr(o.id(), a);
  PRH_CHECK_INPUT(h5::attr_class(attr) == h5::Class::string,
                  "{}: '{}': attribute '{}' is not a string", o.f.path, o.path, a);
  return h5::attr_strings(attr);
}

// A scalar (one-element) string attribute.
std::string attr_string(const Obj& o, std::string_view name) {
  auto v = attr_strings(o, name);
  PRH_CHECK_INPUT(v.size() == 1, "{}: '{}': attribute '{}' has {} strings, expected 1", o.f.path,
                  o.path, name, v.size());
  return v[0];
}

std::string attr_string_or(const Obj& o, std::string_view name, const std::string& fallback) {
  return o.has(name) ? attr_string(o, name) : fallback;
}

// A list of strings stored as a JSON array in one string (the contract), or
// as a string array attribute.
std::vector<std::string> attr_string_list(const Obj& o, std::string_view name) {
  auto v = attr_strings(o, name);
  if (v.size() != 1) return v;
  std::vector<std::string> out;
  try {
    const auto j = json::parse(v[0]);
    PRH_CHECK_INPUT(j.is_array(), "{}: '{}': attribute '{}' is not a JSON list: {}", o.f.path,
                    o.path, name, v[0]);
    for (const auto& e : j) out.push_back(e.get<std::string>());
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: '{}': attribute '{}' is not a JSON list of strings: {}",
                                 o.f.path, o.path, name, e.what()));
  }
  return out;
}

// Every element of a numeric attribute, converted to `T` (native type `mem`).
template <class T>
std::vector<T> attr_numbers(const Obj& o, std::string_view name, h5::Id mem) {
  const std::string a = o.attr(name);
  auto attr = h5::open_attr(o.id(), a);
  const auto cls = h5::attr_class(attr);
  PRH_CHECK_INPUT(cls == h5::Class::integer || cls == h5::Class::floating,
                  "{}: '{}': attribute '{}' is not a number", o.f.path, o.path, a);
  std::vector<T> out(h5::attr_points(attr));
  h5::read_attr(attr, mem, out.data());
  return out;
}

template <class T>
T attr_number(const Obj& o, std::string_view name, h5::Id mem, T fallback) {
  if (!o.has(name)) return fallback;
  auto v = attr_numbers<T>(o, name, mem);
  PRH_CHECK_INPUT(v.size() == 1, "{}: '{}': attribute '{}' has {} values, expected 1", o.f.path,
                  o.path, name, v.size());
  return v[0];
}

std::int64_t attr_int(const Obj& o, std::string_view name, std::int64_t fallback = 0) {
  return attr_number<std::int64_t>(o, name, h5::native_int64(), fallback);
}

std::uint64_t attr_uint(const Obj& o, std::string_view name) {
  return attr_number<std::uint64_t>(o, name, h5::native_uint64(), 0);
}

double attr_double(const Obj& o, std::string_view name) {
  return attr_number<double>(o, name, h5::native_double(),
                             std::numeric_limits<double>::quiet_NaN());
}

// An optional numeric vector attribute of `expect` elements (empty if absent).
template <class T>
std::vector<T> attr_vector(const Obj& o, std::string_view name, h5::Id mem, std::size_t expect) {
  if (!o.has(name)) return {};
  auto v = attr_numbers<T>(o, name, mem);
  PRH_CHECK_INPUT(v.size() == expect, "{}: '{}': attribute '{}' has {} values, expected {}",
                  o.f.path, o.path, name, v.size(), expect);
  return v;
}

// --- Datasets -----------------------------------------------------------------

// Dataset `name` of the object `g` as the schema declares it (detail::read_declared).
template <class T>
std::vector<T> read(const Obj& g, std::string_view name, const schema::Sizes& sizes,
                    Need need = Need::optional, std::string_view method = "") {
  return detail::read_declared<T>(g.f, g.path, g.pattern, name, sizes, need, method);
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

using Sizes = schema::Sizes;

AlignmentResult read_alignment(const File& f, const std::string& set, const std::string& name,
                               std::size_t m) {
  const auto g =
      open_obj(f, schema::path(schema::kAlignmentConfig, {{"set", set}, {"config", name}}),
               schema::kAlignmentConfig);
  AlignmentResult a;
  a.name = name;
  a.metric = attr_string_or(g, "metric", name.substr(0, name.find('@')));
  a.params = attr_string_or(g, "params", "{}");
  a.symmetric = attr_int(g, "symmetric", 1) != 0;
  a.preprocess = attr_string_or(g, "preprocess", "");
  a.last_layer_only = attr_int(g, "last_layer_only", 0) != 0;
  const Sizes sz{m, 0, 0, m * (m + 1) / 2};  // P: pairs i <= j
  a.scores = read<double>(g, "scores", sz, Need::required);
  a.layers = read<std::int32_t>(g, "layers", sz, Need::required);
  a.done = read<std::uint8_t>(g, "done", sz);
  return a;
}

CorrelationResult read_correlation(const File& f, const std::string& set,
                                   const std::vector<std::string>& configurations, std::size_t m) {
  const auto g =
      open_obj(f, schema::path(schema::kCorrelationSet, {{"set", set}}), schema::kCorrelationSet);
  CorrelationResult c;
  c.configurations =
      g.has("configurations") ? attr_string_list(g, "configurations") : configurations;
  if (g.has("methods")) {
    c.methods = attr_string_list(g, "methods");
  } else {  // the method datasets are the names without '_'
    for (const auto& n : children(f, g.path))
      if (n.find('_') == std::string::npos && n != "mean") c.methods.push_back(n);
  }
  c.pairs = attr_int(g, "pairs");
  c.bootstrap = attr_int(g, "bootstrap");
  c.confidence = attr_double(g, "confidence");
  c.seed = attr_uint(g, "seed");
  c.resampling = attr_string_or(g, "resampling", "");
  c.vector = attr_string_or(g, "vector", "");
  const Sizes sz{m, c.configurations.size(), 0, 0};
  c.mean_alignment = read<double>(g, "mean_alignment", sz);
  c.mean = read<double>(g, "mean", sz);
  c.mean_ci_low = read<double>(g, "mean_ci_low", sz);
  c.mean_ci_high = read<double>(g, "mean_ci_high", sz);
  c.calibrated_mean = read<double>(g, "calibrated_mean", sz);
  c.calibrated_mean_ci_low = read<double>(g, "calibrated_mean_ci_low", sz);
  c.calibrated_mean_ci_high = read<double>(g, "calibrated_mean_ci_high", sz);
  c.mean_seed = attr_uint(g, "mean_seed");
  for (const auto& method : c.methods) {
    const auto dbl = [&](std::string_view name, Need need = Need::optional) {
      return read<double>(g, name, sz, need, method);
    };
    const auto i64 = [&](std::string_view name) {
      return read<std::int64_t>(g, name, sz, Need::optional, method);
    };
    if (!has_dataset(f, g.path + "/" + schema::child(g.pattern, "{method}", {{"method", method}})))
      continue;  // not written (yet)
    CorrelationMethod cm;
    cm.name = method;
    cm.r = dbl("{method}", Need::required);
    cm.p = dbl("{method}_pvalue");
    cm.n = i64("{method}_n");
    cm.ci_low = dbl("{method}_ci_low");
    cm.ci_high = dbl("{method}_ci_high");
    cm.mantel_p = dbl("{method}_mantel_p");
    cm.null_mean = dbl("{method}_null_mean");
    cm.null_q95 = dbl("{method}_null_q95");
    cm.null_p = dbl("{method}_null_p");
    cm.accuracy_r = dbl("accuracy_{method}");
    cm.accuracy_p = dbl("accuracy_{method}_pvalue");
    cm.accuracy_n = i64("accuracy_{method}_n");
    c.by_method.push_back(std::move(cm));
  }
  return c;
}

PredictionsResult read_predictions(const File& f, const std::string& set, std::size_t m) {
  const auto g =
      open_obj(f, schema::path(schema::kPredictionsSet, {{"set", set}}), schema::kPredictionsSet);
  PredictionsResult p;
  p.labelled = attr_int(g, "labelled");
  p.n = attr_int(g, "n");
  const Sizes sz{m, 0, 0, 0};
  p.accuracy = read<double>(g, "accuracy", sz);
  p.mean_prob = read<double>(g, "mean_prob", sz);
  p.mean_prob_wrong = read<double>(g, "mean_prob_wrong", sz);
  p.agreement = read<double>(g, "agreement", sz);
  p.both_wrong = read<std::int64_t>(g, "both_wrong", sz);
  p.agreement_both_wrong = read<double>(g, "agreement_both_wrong", sz);
  return p;
}

ComparisonResult read_comparison(const File& f, const std::string& s1, const std::string& s2,
                                 const std::vector<std::string>& configurations) {
  const auto g = open_obj(f, schema::path(schema::kComparisonPair, {{"set_a", s1}, {"set_b", s2}}),
                          schema::kComparisonPair);
  ComparisonResult c;
  c.set_a = s1;
  c.set_b = s2;
  // The configurations of the first set's correlation (no prh wrote a
  // `configurations` attribute here; the schema declares none).
  c.configurations = configurations;
  if (g.has("methods")) {
    c.methods = attr_string_list(g, "methods");
  } else {  // the datasets {method}_diff
    const std::string suffix = "_diff";
    for (const auto& n : children(f, g.path))
      if (n.size() > suffix.size() &&
          n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
        c.methods.push_back(n.substr(0, n.size() - suffix.size()));
  }
  c.bootstrap = attr_int(g, "bootstrap");
  c.confidence = attr_double(g, "confidence");
  c.seed = attr_uint(g, "seed");
  c.test = attr_string_or(g, "test", "");
  const Sizes sz{0, c.configurations.size(), 0, 0};
  for (const auto& method : c.methods) {
    const auto dbl = [&](std::string_view name, Need need = Need::optional) {
      return read<double>(g, name, sz, need, method);
    };
    if (!has_dataset(
            f, g.path + "/" + schema::child(g.pattern, "{method}_diff", {{"method", method}})))
      continue;
    ComparisonMethod cm;
    cm.name = method;
    cm.diff = dbl("{method}_diff", Need::required);
    cm.ci_low = dbl("{method}_diff_ci_low");
    cm.ci_high = dbl("{method}_diff_ci_high");
    cm.pvalue = dbl("{method}_diff_pvalue");
    c.by_method.push_back(std::move(cm));
  }
  return c;
}

SweepResult read_sweep(const File& f, const std::string& name, h5::hsize k, h5::hsize m) {
  const auto g = open_obj(f, schema::path(schema::kSweep, {{"sweep", name}}), schema::kSweep);
  SweepResult w;
  w.name = name;
  w.family = attr_string_or(g, "family", "");
  w.base = attr_string_or(g, "base", "");
  w.parameter = attr_string_or(g, "parameter", "level");
  w.method = attr_string_or(g, "method", "");
  w.description = attr_string_or(g, "description", "");
  w.alpha = attr_double(g, "alpha");
  w.confidence = attr_double(g, "confidence");
  w.breaking_fraction = attr_double(g, "breaking_fraction");
  w.sets = read_strings(f, g.path + "/" + schema::child(g.pattern, "sets"));
  const Sizes sz{m, k, w.sets.size(), 0};
  const auto dbl = [&](std::string_view n, Need need = Need::optional) {
    return read<double>(g, n, sz, need, w.method);
  };
  w.levels = dbl("levels", Need::required);
  w.mean = dbl("mean", Need::required);
  w.mean_ci_low = dbl("mean_ci_low");
  w.mean_ci_high = dbl("mean_ci_high");
  w.calibrated_mean = dbl("calibrated_mean");
  w.calibrated_ci_low = dbl("calibrated_mean_ci_low");
  w.calibrated_ci_high = dbl("calibrated_mean_ci_high");
  w.significant_fraction = dbl("significant_fraction");
  w.significant_ci_low = dbl("significant_fraction_ci_low");
  w.significant_ci_high = dbl("significant_fraction_ci_high");
  w.breaking_level = dbl("breaking_level");
  w.breaking_level_low = dbl("breaking_level_low");
  w.breaking_level_high = dbl("breaking_level_high");
  w.breaking_agreement = dbl("breaking_agreement");
  // Effect-size breaking and the chance share (absent in older files).
  if (g.has("relative_breaking")) w.relative_breaking = attr_double(g, "relative_breaking");
  w.relative = dbl("relative_calibrated");
  w.relative_ci_low = dbl("relative_calibrated_ci_low");
  w.relative_ci_high = dbl("relative_calibrated_ci_high");
  w.chance_share = dbl("chance_share");
  w.relative_breaking_level = dbl("relative_breaking_level");
  w.relative_breaking_level_low = dbl("relative_breaking_level_low");
  w.relative_breaking_level_high = dbl("relative_breaking_level_high");
  w.relative_breaking_agreement = dbl("relative_breaking_agreement");
  w.images = read<std::int64_t>(g, "images", sz);
  if (!w.method.empty()) {
    w.r = dbl("{method}");
    w.r_ci_low = dbl("{method}_ci_low");
    w.r_ci_high = dbl("{method}_ci_high");
    w.mantel_p = dbl("{method}_mantel_p");
    w.null_mean = dbl("{method}_null_mean");
    w.null_q95 = dbl("{method}_null_q95");
    w.null_p = dbl("{method}_null_p");
  }
  w.test_p = dbl("correlation_p");
  w.correlation_test = read<std::int64_t>(g, "correlation_test", sz);
  w.correlation_breaking_level = dbl("correlation_breaking_level");
  w.accuracy = dbl("accuracy");
  w.mean_prob = dbl("mean_prob");
  w.agreement = dbl("agreement");
  return w;
}

CalibrationResult read_calibration_group(const File& f, const std::string& set,
                                         const std::string& config, std::size_t m) {
  const auto g =
      open_obj(f, schema::path(schema::kCalibrationConfig, {{"set", set}, {"config", config}}),
               schema::kCalibrationConfig);
  CalibrationResult cr;
  cr.name = config;
  cr.permutations = attr_int(g, "permutations");
  cr.alpha = attr_double(g, "alpha");
  const Sizes sz{m, 0, 0, 0};
  cr.pvalue = read<double>(g, "pvalue", sz);
  cr.qvalue = read<double>(g, "qvalue", sz);
  cr.threshold = read<double>(g, "threshold", sz);
  cr.calibrated = read<double>(g, "calibrated", sz);
  cr.null_mean = read<double>(g, "null_mean", sz);
  cr.null_sd = read<double>(g, "null_sd", sz);
  return cr;
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

namespace {

// The root's attributes, /models and /configurations.
void read_header(const File& f, ResultsData& r) {
  const Obj root = root_obj(f);
  PRH_CHECK_INPUT(root.has("format"),
                  "{}: not a prh results file (format: no 'format' attribute, expected '{}')",
                  f.path, paths::kResultsFormat);
  const auto format = attr_strings(root, "format");
  r.format = format.size() == 1 ? format[0] : "";
  PRH_CHECK_INPUT(r.format == paths::kResultsFormat,
                  "{}: not a prh results file (format '{}', expected '{}')", f.path, r.format,
                  paths::kResultsFormat);
  r.prh_version = attr_string_or(root, "prh_version", "");
  r.config_hash = attr_string_or(root, "config_hash", "");
  r.config_file = attr_string_or(root, "config_file", "");
  r.store = attr_string_or(root, "store", "");
  r.config = attr_string_or(root, "config", "");
  r.identity = attr_string_or(root, "identity", "");
  r.complete = attr_int(root, "complete", 0) == 1;

  const std::string models_path = schema::path(schema::kModels, {});
  r.models = read_strings(f, models_path);
  const std::size_t m = r.models.size();
  {
    const auto models = open_obj(f, models_path, schema::kModels);
    r.layer_counts = attr_vector<std::int64_t>(models, "layer_counts", h5::native_int64(), m);
    r.classes = attr_vector<std::int64_t>(models, "classes", h5::native_int64(), m);
  }
  r.configurations = read_strings(f, schema::path(schema::kConfigurations, {}));
}

// The image sets: every group under /alignment, /correlation or /predictions,
// in config order.
std::vector<std::string> set_names(const File& f, const ResultsData& r) {
  std::vector<std::string> names;
  for (const auto top : {schema::kAlignment, schema::kCorrelation, schema::kPredictions}) {
    const std::string tp = schema::path(top, {});
    if (!has_group(f, tp)) continue;
    for (auto& s : children(f, tp))
      if (std::find(names.begin(), names.end(), s) == names.end()) names.push_back(s);
  }
  return ordered(names, config_set_order(r.config, r.identity));
}

// One image set's alignment, correlation, predictions and calibration.
SetResult read_set(const File& f, const std::string& name, const ResultsData& r) {
  const std::size_t m = r.models.size();
  SetResult s;
  s.name = name;
  const std::string g = paths::alignment(name);
  if (has_group(f, g)) {
    const auto obj = open_obj(f, g, schema::kAlignmentSet);
    s.n = attr_int(obj, "n");
    s.skipped = attr_int(obj, "skipped");
    s.models_present = attr_vector<std::uint8_t>(obj, "models_present", h5::native_uint8(), m);
    for (const auto& c : ordered(children(f, g), r.configurations)) {
      PRH_CHECK_INPUT(has_group(f, g + "/" + c), "{}: '{}/{}' is not a group", f.path, g, c);
      s.configurations.push_back(read_alignment(f, name, c, m));
    }
  }
  if (has_group(f, schema::path(schema::kCorrelationSet, {{"set", name}})))
    s.correlation = read_correlation(f, name, r.configurations, m);
  if (has_group(f, schema::path(schema::kPredictionsSet, {{"set", name}})))
    s.predictions = read_predictions(f, name, m);
  if (const std::string cg = paths::calibration(name); has_group(f, cg))
    for (const auto& c : ordered(children(f, cg), r.configurations)) {
      // the set's done flags are a dataset beside the configurations' groups
      if (c == schema::child(schema::kCalibrationSet, "done") || !has_group(f, cg + "/" + c))
        continue;
      s.calibration.push_back(read_calibration_group(f, name, c, m));
    }
  return s;
}

// /comparison: every pair of sets, in config order.
void read_comparisons(const File& f, const std::vector<std::string>& names, ResultsData& r) {
  const std::string top = schema::path(schema::kComparison, {});
  if (!has_group(f, top)) return;
  for (const auto& s1 : ordered(children(f, top), names)) {
    const std::string first = top + "/" + s1;
    if (!has_group(f, first)) continue;
    const auto* a = r.find_set(s1);
    const auto& configs = a && a->correlation ? a->correlation->configurations : r.configurations;
    for (const auto& s2 : ordered(children(f, first), names))
      if (has_group(f, schema::path(schema::kComparisonPair, {{"set_a", s1}, {"set_b", s2}})))
        r.comparisons.push_back(read_comparison(f, s1, s2, configs));
  }
}

}  // namespace

ResultsData read_results(const std::string& path) {
  h5::quiet();
  File f{path, h5::open_file_readonly(path)};
  ResultsData r;
  r.path = path;
  read_header(f, r);
  const auto names = set_names(f, r);
  for (const auto& name : names) r.sets.push_back(read_set(f, name, r));
  read_comparisons(f, names, r);
  if (const std::string top = schema::path(schema::kSweeps, {}); has_group(f, top))
    for (const auto& name : children(f, top))
      if (has_group(f, schema::path(schema::kSweep, {{"sweep", name}})))
        r.sweeps.push_back(read_sweep(f, name, r.configurations.size(), r.models.size()));
  return r;
}

}  // namespace prh::store
