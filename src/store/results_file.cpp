// The results file (results.h5, docs/results.md): its setup by rank 0 before
// the stages (root attributes, /models, /configurations, /alignment groups),
// what prh status reads of it, and the serial reads of reduce's later steps.
// The writers of its parts: alignment_writer.cpp, calibration_writer.cpp,
// derived_writer.cpp, results_groups.cpp. Names from the schema
// (src/schema/results_schema.cpp).
#include "prh/store/results_store.hpp"

#include <filesystem>
#include <limits>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "h5.hpp"
#include "json_diff.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "prh/core/version.hpp"
#include "results_file.hpp"
#include "results_schema.hpp"
#include "unit_file.hpp"

namespace prh::store {

namespace detail {

h5::Handle create_file(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  PRH_CHECK_INPUT(!ec, "{}: cannot create its folder {}: {}", path, parent.string(), ec.message());
  h5::Handle f = h5::try_create_file(path);
  PRH_CHECK_INPUT(f, "{}: cannot create: {}", path, h5::error_stack());
  return f;
}

h5::Handle open_rw(const std::string& path) {
  h5::Handle f = h5::try_open_file(path, /*write=*/true);
  PRH_CHECK_INPUT(f, "{}: cannot open for writing: {}", path, h5::error_stack());
  return f;
}

h5::Handle open_or_create_group(h5::Id parent, const std::string& name) {
  return h5::exists(parent, name) ? h5::open_group(parent, name) : h5::create_group(parent, name);
}

h5::Handle open_if(const std::string& path, bool& exists,
                   const std::function<bool(h5::Id)>& check) {
  exists = std::filesystem::exists(path);
  h5::quiet();
  if (!exists) return {};
  try {
    h5::Handle file = h5::open_file_readonly(path);
    if (check(file.id())) return file;
  } catch (const std::exception&) {
  }  // damaged: not readable
  return {};
}

std::vector<std::uint8_t> progress_flags(h5::Id f, const std::string& p, std::size_t n,
                                         const std::map<std::string, std::set<std::uint64_t>>& j) {
  std::vector<std::uint8_t> v;
  if (f >= 0 && h5::exists(f, p)) {
    auto ds = h5::open_dataset(f, p);
    const auto shape = h5::dataset_shape(ds);
    v.resize(shape.size() == 1 ? shape[0] : 0);
    if (!v.empty()) h5::read_box(ds.id(), h5::native_uint8(), {0}, {v.size()}, v.data());
  }
  if (v.size() != n) v.assign(n, 0);
  if (const auto it = j.find(p); it != j.end())
    for (const auto u : it->second)
      if (u < n) v[u] = 1;
  for (auto& x : v) x = x != 0;
  return v;
}

}  // namespace detail

namespace {

using json = nlohmann::json;
using detail::create_file;
using detail::open_or_create_group;
using detail::open_rw;
using detail::progress_flags;

// The name of a root attribute, from the schema.
std::string root_attr(std::string_view name) {
  return schema::attr(schema::kRoot, name);
}

// A root string attribute, `fallback` when the file lacks it.
std::string root_string_or(h5::Id f, std::string_view name, const std::string& fallback) {
  const std::string a = root_attr(name);
  return h5::has_attr(f, a) ? h5::read_attr_string(f, a) : fallback;
}

// Whether the open file says it is a prh results file (its format attribute).
bool is_results(h5::Id f) {
  return root_string_or(f, "format", "") == paths::kResultsFormat;
}

// Whether the root attribute `complete` is 1.
bool is_complete(h5::Id f) {
  const std::string a = root_attr("complete");
  return h5::has_attr(f, a) && h5::read_attr_int(f, a) == 1;
}

std::string config_path(const std::string& set, const std::string& config) {
  return paths::configuration(set, config);
}

void write_configuration_group(h5::Id file, const ResultsLayout& L, const std::string& set,
                               const ConfigurationInfo& c) {
  auto sg = open_or_create_group(file, paths::alignment(set));
  auto g = h5::create_group(sg.id(), c.name);
  h5::write_attr(g.id(), schema::attr(schema::kAlignmentConfig, "metric"), c.metric);
  json params = json::object();
  for (const auto& [k, v] : c.params) {
    params[k] = v;
    // Each parameter is also an attribute of the dtype the schema declares.
    const schema::Entry* e = schema::find(schema::kAlignmentConfig, k);
    PRH_ASSERT(e, "configuration {}: parameter {} is not in the results schema", c.name, k);
    const std::string name(e->attribute);
    try {
      if (e->dtype == "string")
        h5::write_attr(g.id(), name, v);
      else if (e->dtype == "float64")
        h5::write_attr(g.id(), name, std::stod(v));
      else
        h5::write_attr(g.id(), name, static_cast<std::int64_t>(std::stoll(v)));
    } catch (const std::logic_error& e) {  // stod/stoll: the registry gave a bad number
      throw InternalError(
          fmt::format("configuration {}: parameter {}={} is not a number", c.name, k, v));
    }
  }
  h5::write_attr(g.id(), schema::attr(schema::kAlignmentConfig, "params"), params.dump());
  h5::write_attr(g.id(), schema::attr(schema::kAlignmentConfig, "symmetric"),
                 static_cast<std::int64_t>(c.symmetric));
  h5::write_attr(g.id(), schema::attr(schema::kAlignmentConfig, "preprocess"), L.preprocess.dump());
  h5::write_attr(g.id(), schema::attr(schema::kAlignmentConfig, "last_layer_only"),
                 static_cast<std::int64_t>(L.last_layer_only));
  const auto m = static_cast<h5::hsize>(L.models.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::int32_t minus_one = -1;
  h5::create_dataset_filled(g.id(), schema::child(schema::kAlignmentConfig, "scores"),
                            h5::ieee_f64le(), {m, m}, h5::native_double(), &nan);
  h5::create_dataset_filled(g.id(), schema::child(schema::kAlignmentConfig, "layers"),
                            h5::std_i32le(), {m, m, 2}, h5::native_int32(), &minus_one);
  h5::create_dataset(g.id(), schema::child(schema::kAlignmentConfig, "done"), h5::std_u8le(),
                     {static_cast<h5::hsize>(L.pairs())}, true);
}

bool stored_symmetric(h5::Id f, const std::string& config_group) {
  auto g = h5::open_group(f, config_group);
  return !h5::has_attr(g.id(), schema::attr(schema::kAlignmentConfig, "symmetric")) ||
         h5::read_attr_int(g.id(), schema::attr(schema::kAlignmentConfig, "symmetric")) != 0;
}

std::vector<std::string> names_of(const std::vector<ConfigurationInfo>& cs) {
  std::vector<std::string> v;
  for (const auto& c : cs) v.push_back(c.name);
  return v;
}

}  // namespace

namespace {

// Whether the existing file at `path` must be made anew (its creation was
// interrupted); refuses a file that is not prh's results or that another
// configuration computed.
bool check_existing(const std::string& path, const ResultsLayout& L) {
  auto ro = h5::open_file_readonly(path);
  const h5::Id f = ro.id();
  PRH_CHECK_INPUT(is_results(f),
                  "{}: exists but is not a prh results file; use another `results` path", path);
  if (!h5::has_attr(f, root_attr("identity"))) return true;  // creation was interrupted
  std::vector<std::string> changed;
  json stored;
  try {
    stored = json::parse(h5::read_attr_string(f, root_attr("identity")));
  } catch (const json::exception& e) {
    throw InputError(
        fmt::format("{}: its 'identity' attribute is damaged ({}); delete the file to recompute",
                    path, e.what()));
  }
  detail::json_diff(stored, L.identity, "", changed);
  if (!changed.empty()) {
    std::string msg = fmt::format(
        "{}: these results were computed from another configuration (store, image sets, "
        "models, preprocessing or layer mode), so they cannot be resumed or extended. What "
        "changed:",
        path);
    for (const auto& c : changed) msg += "\n  - " + c;
    msg += "\nUse another `results` path, or delete the file to recompute.";
    throw InputError(msg);
  }
  return false;
}

// A new file: what never changes (format, version, identity, the models).
h5::Handle create_results(const std::string& path, const ResultsLayout& L) {
  h5::Handle file = create_file(path);
  const h5::Id f = file.id();
  h5::write_attr(f, root_attr("format"), std::string(paths::kResultsFormat));
  h5::write_attr(f, root_attr("prh_version"), std::string(kVersion));
  h5::write_attr(f, root_attr("identity"), L.identity.dump());
  const std::string models_path = schema::path(schema::kModels, {});
  h5::write_strings(f, models_path, L.models);
  auto models = h5::open_dataset(f, models_path);
  h5::write_attr(models.id(), schema::attr(schema::kModels, "layer_counts"), L.layer_counts);
  h5::write_attr(models.id(), schema::attr(schema::kModels, "classes"), L.classes);
  h5::create_group(f, schema::path(schema::kAlignment, {}));
  return file;
}

// What each run (re)writes: the root's run attributes and /configurations.
void write_run_attrs(h5::Id f, const ResultsLayout& L) {
  h5::write_attr(f, root_attr("complete"), std::int64_t{0});
  h5::write_attr(f, root_attr("config_file"), L.config_file);
  h5::write_attr(f, root_attr("config_text"), L.config_text);
  h5::write_attr(f, root_attr("config"), L.config.dump());
  h5::write_attr(f, root_attr("config_hash"), L.config_hash);
  h5::write_attr(f, root_attr("store"), L.store_path);
  // Every device that reduce runs on this file used, in order ("cuda",
  // "cuda,cpu" after a resume on another device).
  std::string devices = root_string_or(f, "device", "");
  if (("," + devices + ",").find("," + L.device + ",") == std::string::npos)
    devices += (devices.empty() ? "" : ",") + L.device;
  h5::write_attr(f, root_attr("device"), devices);
  h5::remove(f, schema::path(schema::kConfigurations, {}));
  h5::write_strings(f, schema::path(schema::kConfigurations, {}), names_of(L.configurations));
}

// /alignment/{set}: its attributes and a group per configuration not yet there.
void write_alignment_set(const std::string& path, h5::Id f, const ResultsLayout& L,
                         const SetInfo& s) {
  auto g = open_or_create_group(f, paths::alignment(s.name));
  h5::write_attr(g.id(), schema::attr(schema::kAlignmentSet, "n"), s.n);
  h5::write_attr(g.id(), schema::attr(schema::kAlignmentSet, "skipped"), s.skipped);
  h5::write_attr(g.id(), schema::attr(schema::kAlignmentSet, "models_present"),
                 std::vector<std::int64_t>(s.models_present.begin(), s.models_present.end()));
  for (const auto& c : L.configurations) {
    const std::string cp = config_path(s.name, c.name);
    if (h5::exists(f, cp) && stored_symmetric(f, cp) != c.symmetric) {
      // Written by a prh that stored one orientation of an asymmetric
      // metric (cknna) in both triangles: recompute it.
      spdlog::warn(
          "{}: {} on image set '{}' was computed by an older prh that stored one orientation "
          "for both model orders; recomputing it",
          path, c.name, s.name);
      h5::remove(g.id(), c.name);
    }
    if (!h5::exists(f, cp)) write_configuration_group(f, L, s.name, c);
  }
}

}  // namespace

void prepare_results_file(const std::string& path, const ResultsLayout& L) {
  h5::quiet();
  // Units a serial-HDF5 run finished before it was cut off (docs/store.md).
  replay_journals(path);
  const bool fresh = !std::filesystem::exists(path) || check_existing(path, L);
  h5::Handle file = fresh ? create_results(path, L) : open_rw(path);
  const h5::Id f = file.id();
  write_run_attrs(f, L);
  for (const auto& s : L.sets) write_alignment_set(path, f, L, s);
}

std::int64_t ResultsLayout::pairs() const {
  const auto m = static_cast<std::int64_t>(models.size());
  return m * (m + 1) / 2;
}

std::int64_t ResultsLayout::pair_index(int i, int j) const {
  // Row i starts after rows 0..i-1, which hold M, M-1, ..., M-i+1 pairs.
  const auto m = static_cast<std::int64_t>(models.size());
  return static_cast<std::int64_t>(i) * m - static_cast<std::int64_t>(i) * (i - 1) / 2 + (j - i);
}

std::pair<int, int> ResultsLayout::pair_at(std::int64_t p) const {
  const auto m = static_cast<int>(models.size());
  for (int i = 0; i < m; ++i) {
    const std::int64_t row = m - i;
    if (p < row) return {i, i + static_cast<int>(p)};
    p -= row;
  }
  throw InternalError(fmt::format("pair index out of range"));
}

// --- progress, read-only (prh status) ------------------------------------------

ResultsProgress read_results_progress(const std::string& path, const ResultsLayout& L,
                                      const CalibrationLayout& c) {
  ResultsProgress out;
  const auto M = static_cast<int>(L.models.size());
  const auto P = static_cast<std::size_t>(L.pairs());
  const auto Pc = static_cast<std::size_t>(CalibrationLayout::pairs(M));
  const h5::Handle file = detail::open_if(path, out.exists, is_results);
  out.readable = static_cast<bool>(file);
  h5::Id f = -1;
  if (out.readable) {
    f = file.id();
    out.complete = is_complete(f);
    out.derived_hash = root_string_or(f, "derived_hash", "");
    out.config = root_string_or(f, "config", "");
    std::vector<std::string> changed;
    if (h5::has_attr(f, root_attr("identity"))) {
      try {
        detail::json_diff(json::parse(h5::read_attr_string(f, root_attr("identity"))), L.identity,
                          "", changed);
      } catch (const json::exception&) {
        changed.push_back("its identity attribute is damaged");
      }
    }  // no identity: creation was interrupted, and it is started over
    out.same_identity = changed.empty();
    for (std::size_t k = 0; k < changed.size() && k < 3; ++k)
      out.identity_changes += (k ? "; " : "") + changed[k];
    if (changed.size() > 3) out.identity_changes += fmt::format("; {} more", changed.size() - 3);
    if (!out.same_identity) f = -1;  // reduce refuses it: nothing in it counts
  }
  const auto journal = f >= 0 ? journal_flags(path) : decltype(journal_flags(path)){};
  for (const auto& [p, units] : journal)
    out.journal_units += static_cast<std::int64_t>(units.size());
  for (const auto& s : L.sets) {
    ResultsProgress::Set ps;
    ps.stored = f >= 0 && h5::exists(f, paths::alignment(s.name));
    ps.score_done.assign(P, 1);
    for (const auto& conf : L.configurations) {
      const auto d = progress_flags(
          ps.stored ? f : -1,
          schema::path(schema::kAlignmentDone, {{"set", s.name}, {"config", conf.name}}), P,
          journal);
      for (std::size_t p = 0; p < P; ++p) ps.score_done[p] &= d[p];
    }
    if (L.configurations.empty()) ps.score_done.assign(P, 0);
    if (c.enabled()) {
      // As prepare_calibration decides: a group of other settings, or of
      // float32 nulls, is made anew.
      const std::string sp = paths::calibration(s.name);
      bool keep = f >= 0 && h5::exists(f, sp);
      if (keep) {
        auto g = h5::open_group(f, sp);
        keep = detail::calibration_current(g.id(), L, c, s);
      }
      ps.calibration_remade = f >= 0 && !keep && h5::exists(f, sp);
      ps.calibrate_done = progress_flags(
          keep ? f : -1, schema::path(schema::kCalibrationDone, {{"set", s.name}}), Pc, journal);
    }
    out.sets.push_back(std::move(ps));
  }
  return out;
}

// --- serial reads ------------------------------------------------------------

std::vector<double> read_scores(const std::string& path, const std::string& set,
                                const std::string& config) {
  auto file = h5::open_file_readonly(path);
  auto ds = h5::open_dataset(file, path,
                             schema::path(schema::kScores, {{"set", set}, {"config", config}}));
  const auto shape = h5::dataset_shape(ds);
  std::vector<double> v(shape[0] * shape[1]);
  if (!v.empty())
    h5::read_box(ds.id(), h5::native_double(), {0, 0}, {shape[0], shape[1]}, v.data());
  return v;
}

std::pair<bool, std::string> results_state(const std::string& path) {
  if (!std::filesystem::exists(path)) return {false, ""};
  h5::quiet();
  try {
    auto file = h5::open_file_readonly(path);
    const h5::Id f = file.id();
    if (!is_results(f)) return {false, ""};
    return {is_complete(f), root_string_or(f, "derived_hash", "")};
  } catch (const std::exception&) {
    return {false, ""};
  }
}

}  // namespace prh::store
