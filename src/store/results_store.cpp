#include "prh/store/results_store.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "h5.hpp"
#include "json_diff.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "prh/core/files.hpp"
#include "prh/core/version.hpp"
#include "prh/store/done_flags.hpp"
#include "results_schema.hpp"
#include "unit_file.hpp"

namespace prh::store {

namespace {

using json = nlohmann::json;
constexpr const char* kFormat = paths::kResultsFormat;
constexpr const char* kPrepFormat = paths::kPrepFormat;

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

std::string config_path(const std::string& set, const std::string& config) {
  return paths::configuration(set, config);
}

void write_configuration_group(h5::Id file, const ResultsLayout& L, const std::string& set,
                               const ConfigurationInfo& c) {
  auto sg = open_or_create_group(file, paths::alignment(set));
  auto g = h5::create_group(sg.id(), c.name);
  h5::write_attr(g.id(), "metric", c.metric);
  json params = json::object();
  for (const auto& [k, v] : c.params) {
    params[k] = v;
    try {
      if (k == "kernel")
        h5::write_attr(g.id(), k, v);
      else if (k == "sigma")
        h5::write_attr(g.id(), k, std::stod(v));
      else
        h5::write_attr(g.id(), k, static_cast<std::int64_t>(std::stoll(v)));
    } catch (const std::logic_error& e) {  // stod/stoll: the registry gave a bad number
      throw InternalError(
          fmt::format("configuration {}: parameter {}={} is not a number", c.name, k, v));
    }
  }
  h5::write_attr(g.id(), "params", params.dump());
  h5::write_attr(g.id(), "symmetric", static_cast<std::int64_t>(c.symmetric));
  h5::write_attr(g.id(), "preprocess", L.preprocess.dump());
  h5::write_attr(g.id(), "last_layer_only", static_cast<std::int64_t>(L.last_layer_only));
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
  return !h5::has_attr(g.id(), "symmetric") || h5::read_attr_int(g.id(), "symmetric") != 0;
}

std::vector<std::string> names_of(const std::vector<ConfigurationInfo>& cs) {
  std::vector<std::string> v;
  for (const auto& c : cs) v.push_back(c.name);
  return v;
}

}  // namespace

void prepare_results_file(const std::string& path, const ResultsLayout& L) {
  h5::quiet();
  // Units a serial-HDF5 run finished before it was cut off (docs/store.md).
  replay_journals(path);
  h5::Handle file;
  bool fresh = !std::filesystem::exists(path);
  if (!fresh) {
    auto ro = h5::open_file_readonly(path);
    const h5::Id f = ro.id();
    PRH_CHECK_INPUT(h5::has_attr(f, "format") && h5::read_attr_string(f, "format") == kFormat,
                    "{}: exists but is not a prh results file; use another `results` path", path);
    if (!h5::has_attr(f, "identity")) {
      fresh = true;  // creation was interrupted: start over
    } else {
      std::vector<std::string> changed;
      json stored;
      try {
        stored = json::parse(h5::read_attr_string(f, "identity"));
      } catch (const json::exception& e) {
        throw InputError(fmt::format(
            "{}: its 'identity' attribute is damaged ({}); delete the file to recompute", path,
            e.what()));
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
    }
  }
  if (fresh) {
    file = create_file(path);
    const h5::Id f = file.id();
    h5::write_attr(f, "format", std::string(kFormat));
    h5::write_attr(f, "prh_version", std::string(kVersion));
    h5::write_attr(f, "identity", L.identity.dump());
    h5::write_strings(f, "models", L.models);
    auto models = h5::open_dataset(f, "models");
    h5::write_attr(models.id(), "layer_counts", L.layer_counts);
    h5::write_attr(models.id(), "classes", L.classes);
    h5::create_group(f, "/alignment");
  } else {
    file = open_rw(path);
  }
  const h5::Id f = file.id();
  h5::write_attr(f, "complete", std::int64_t{0});
  h5::write_attr(f, "config_file", L.config_file);
  h5::write_attr(f, "config_text", L.config_text);
  h5::write_attr(f, "config", L.config.dump());
  h5::write_attr(f, "config_hash", L.config_hash);
  h5::write_attr(f, "store", L.store_path);
  // Every device that reduce runs on this file used, in order ("cuda",
  // "cuda,cpu" after a resume on another device).
  std::string devices = h5::has_attr(f, "device") ? h5::read_attr_string(f, "device") : "";
  if (("," + devices + ",").find("," + L.device + ",") == std::string::npos)
    devices += (devices.empty() ? "" : ",") + L.device;
  h5::write_attr(f, "device", devices);
  h5::remove(f, "configurations");
  h5::write_strings(f, "configurations", names_of(L.configurations));
  for (const auto& s : L.sets) {
    auto g = open_or_create_group(f, paths::alignment(s.name));
    h5::write_attr(g.id(), "n", s.n);
    h5::write_attr(g.id(), "skipped", s.skipped);
    h5::write_attr(g.id(), "models_present",
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

struct AlignmentWriter::Impl {
  struct Block {
    std::size_t scores = 0, layers = 0, done = 0;  // slots in `file`
  };
  std::unique_ptr<UnitFile> file;
  std::vector<std::vector<Block>> blocks;  // [set][config]
};

AlignmentWriter::AlignmentWriter(const std::string& path, const ResultsLayout& layout,
                                 MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = std::make_unique<UnitFile>(path, comm);
  auto& file = *impl_->file;
  for (const auto& s : layout.sets) {
    std::vector<Impl::Block> row;
    for (const auto& c : layout.configurations) {
      Impl::Block b;
      const std::string p = config_path(s.name, c.name);
      b.scores = file.dataset(schema::path(schema::kScores, {{"set", s.name}, {"config", c.name}}));
      b.layers = file.dataset(schema::path(schema::kLayers, {{"set", s.name}, {"config", c.name}}));
      b.done =
          file.flags(schema::path(schema::kAlignmentDone, {{"set", s.name}, {"config", c.name}}));
      PRH_ASSERT(static_cast<std::int64_t>(file.flag_count(b.done)) == layout.pairs(),
                 "{}: {} done flags for {} pairs", p, file.flag_count(b.done), layout.pairs());
      row.push_back(b);
    }
    impl_->blocks.push_back(std::move(row));
  }
}

AlignmentWriter::~AlignmentWriter() = default;

bool AlignmentWriter::done(int set, int config, std::int64_t pair) const {
  const auto& b = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  return impl_->file->done(b.done, static_cast<std::size_t>(pair));
}

void AlignmentWriter::write(int set, int config, int i, int j, double s_ij, int li, int lj,
                            double s_ji, int lj2, int li2) {
  const auto& b = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  auto& file = *impl_->file;
  const auto I = static_cast<h5::hsize>(i), J = static_cast<h5::hsize>(j);
  file.write(b.scores, h5::native_double(), {I, J}, {1, 1}, &s_ij);
  const std::int32_t lij[2] = {li, lj};
  file.write(b.layers, h5::native_int32(), {I, J, 0}, {1, 1, 2}, lij);
  if (i != j) {
    file.write(b.scores, h5::native_double(), {J, I}, {1, 1}, &s_ji);
    const std::int32_t lji[2] = {lj2, li2};
    file.write(b.layers, h5::native_int32(), {J, I, 0}, {1, 1, 2}, lji);
  }
}

void AlignmentWriter::mark_done(int set, int config, std::int64_t pair) {
  const auto& b = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  impl_->file->mark(b.done, static_cast<std::size_t>(pair));
}

UnitFile& AlignmentWriter::unit_file() {
  return *impl_->file;
}

void finish_unit_writes(const std::string& path) {
  replay_journals(path);
}

// --- preparation cache -------------------------------------------------------

namespace {

json prep_identity(const std::vector<PrepUnit>& units, const metrics::Requirements& req,
                   const json& identity) {
  json u = json::array();
  for (const auto& x : units) u.push_back({x.set, x.model, x.layer, x.n, x.dim});
  return {{"results", identity},
          {"units", u},
          {"max_k", req.max_k},
          {"moments", req.moments},
          {"svcca_dims", req.svcca_dims}};
}

std::string unit_path(std::size_t u) {
  return "/units/" + std::to_string(u);
}

void create_prep(const std::string& path, const std::vector<PrepUnit>& units,
                 const metrics::Requirements& req, const json& ident) {
  auto file = create_file(path);
  const h5::Id f = file.id();
  h5::write_attr(f, "format", std::string(kPrepFormat));
  h5::create_group(f, "/units");
  for (std::size_t u = 0; u < units.size(); ++u) {
    const auto& x = units[u];
    auto g = h5::create_group(f, unit_path(u));
    const auto n = static_cast<h5::hsize>(x.n), d = static_cast<h5::hsize>(x.dim);
    h5::create_dataset(g.id(), "x", h5::ieee_f32le(), {n, d}, false);
    if (req.max_k > 0) {
      const auto k = static_cast<h5::hsize>(req.max_k);
      h5::create_dataset(g.id(), "nbr_index", h5::std_i32le(), {n, k}, false);
      h5::create_dataset(g.id(), "nbr_sim", h5::ieee_f32le(), {n, k}, false);
    }
    if (req.moments || !req.svcca_dims.empty())
      h5::create_dataset(g.id(), "gram", h5::ieee_f64le(), {d, d}, false);
    for (int dim : req.svcca_dims) {
      h5::create_dataset(g.id(), "svcca_" + std::to_string(dim), h5::ieee_f64le(),
                         {d, static_cast<h5::hsize>(dim)}, true);
      // The basis's problem ("" = none), a fixed-size text slot written with the unit.
      h5::create_dataset(g.id(), "svcca_problem_" + std::to_string(dim), h5::std_u8le(), {512},
                         true);
    }
  }
  h5::create_dataset(f, "done", h5::std_u8le(), {static_cast<h5::hsize>(units.size())}, true);
  // Written last: a cache without it is remade.
  h5::write_attr(f, "identity", ident.dump());
}

}  // namespace

struct PrepCache::Impl {
  std::vector<PrepUnit> units;
  metrics::Requirements req;
  std::unique_ptr<UnitFile> file;
  std::size_t done = 0;  // slot of the done flags
};

PrepCache::PrepCache(const std::string& path, const std::vector<PrepUnit>& units,
                     const metrics::Requirements& req, MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  impl_->units = units;
  impl_->req = req;
  impl_->file = std::make_unique<UnitFile>(path, comm);
  impl_->done = impl_->file->flags("done");
  PRH_ASSERT(impl_->file->flag_count(impl_->done) == units.size(), "{}: {} done flags for {} units",
             path, impl_->file->flag_count(impl_->done), units.size());
}

PrepCache::~PrepCache() = default;

bool PrepCache::done(std::size_t unit) const {
  return impl_->file->done(impl_->done, unit);
}

void PrepCache::write(std::size_t unit, const metrics::Representation& rep) {
  const auto& x = impl_->units[unit];
  auto& file = *impl_->file;
  const std::string g = unit_path(unit) + "/";
  const auto n = static_cast<h5::hsize>(x.n), d = static_cast<h5::hsize>(x.dim);
  PRH_ASSERT(rep.n() == x.n && rep.d() == x.dim, "prep unit {}: {}x{} vs {}x{}", unit, rep.n(),
             rep.d(), x.n, x.dim);
  file.write(g + "x", h5::native_float(), {0, 0}, {n, d}, rep.x.data());
  if (impl_->req.max_k > 0) {
    PRH_ASSERT(rep.neighbors && rep.neighbors->k == impl_->req.max_k, "prep unit {}: neighbours",
               unit);
    const auto k = static_cast<h5::hsize>(impl_->req.max_k);
    file.write(g + "nbr_index", h5::native_int32(), {0, 0}, {n, k}, rep.neighbors->index.data());
    file.write(g + "nbr_sim", h5::native_float(), {0, 0}, {n, k}, rep.neighbors->sim.data());
  }
  if (impl_->req.moments || !impl_->req.svcca_dims.empty()) {
    PRH_ASSERT(rep.moments, "prep unit {}: moments", unit);
    file.write(g + "gram", h5::native_double(), {0, 0}, {d, d}, rep.moments->gram.data());
  }
  for (int dim : impl_->req.svcca_dims) {
    const auto& b = rep.svcca.at(dim);
    if (b.problem.empty())
      file.write(g + "svcca_" + std::to_string(dim), h5::native_double(), {0, 0},
                 {d, static_cast<h5::hsize>(dim)}, b.w.data());
    std::string text = b.problem.empty() ? std::string() : b.problem.substr(0, 511);
    text.resize(512, '\0');
    file.write(g + "svcca_problem_" + std::to_string(dim), h5::native_uint8(), {0}, {512},
               text.data());
  }
  file.mark(impl_->done, unit);
}

metrics::Representation PrepCache::read(std::size_t unit) const {
  const auto& x = impl_->units[unit];
  auto g = h5::open_group(impl_->file->file().id(), unit_path(unit));
  const auto n = static_cast<h5::hsize>(x.n), d = static_cast<h5::hsize>(x.dim);
  const h5::Id dx = impl_->file->dxpl();
  metrics::Representation rep;
  rep.x.resize(x.n, x.dim);
  auto xs = h5::open_dataset(g.id(), "x");
  h5::read_box(xs.id(), h5::native_float(), {0, 0}, {n, d}, rep.x.data(), dx);
  if (impl_->req.max_k > 0) {
    metrics::NeighborLists nl;
    nl.n = x.n;
    nl.k = impl_->req.max_k;
    const auto k = static_cast<h5::hsize>(impl_->req.max_k);
    nl.index.resize(n * k);
    nl.sim.resize(n * k);
    auto idx = h5::open_dataset(g.id(), "nbr_index");
    h5::read_box(idx.id(), h5::native_int32(), {0, 0}, {n, k}, nl.index.data(), dx);
    auto sim = h5::open_dataset(g.id(), "nbr_sim");
    h5::read_box(sim.id(), h5::native_float(), {0, 0}, {n, k}, nl.sim.data(), dx);
    rep.neighbors = std::move(nl);
  }
  if (impl_->req.moments || !impl_->req.svcca_dims.empty()) {
    metrics::MatrixD gram(x.dim, x.dim);
    auto gs = h5::open_dataset(g.id(), "gram");
    h5::read_box(gs.id(), h5::native_double(), {0, 0}, {d, d}, gram.data(), dx);
    rep.moments = metrics::make_moments(rep.x, &gram);
  }
  for (int dim : impl_->req.svcca_dims) {
    metrics::SvccaBasis b;
    std::string text(512, '\0');
    auto p = h5::open_dataset(g.id(), "svcca_problem_" + std::to_string(dim));
    h5::read_box(p.id(), h5::native_uint8(), {0}, {512}, text.data(), dx);
    b.problem = text.substr(0, text.find('\0'));
    if (b.problem.empty()) {
      b.w.resize(x.dim, dim);
      auto w = h5::open_dataset(g.id(), "svcca_" + std::to_string(dim));
      h5::read_box(w.id(), h5::native_double(), {0, 0}, {d, static_cast<h5::hsize>(dim)},
                   b.w.data(), dx);
    }
    rep.svcca.emplace(dim, std::move(b));
  }
  return rep;
}

std::string prep_cache_path(const std::string& results) {
  return results + ".prep.h5";
}

namespace {

// Whether `path` is a preparation cache prh made (its format attribute):
// only such a file is ever remade or deleted.
bool is_prep_cache(const std::string& path) {
  try {
    auto ro = h5::open_file_readonly(path);
    return h5::has_attr(ro.id(), "format") &&
           h5::read_attr_string(ro.id(), "format") == kPrepFormat;
  } catch (const std::exception&) {
    return false;
  }
}

void refuse_foreign(const std::string& path) {
  throw InputError(fmt::format(
      "{}: exists but is not a prh preparation cache (no format attribute '{}'), and prh never "
      "overwrites a file it did not make. This is where the results file's preparation cache "
      "goes (RESULTS.prep.h5): move the file away, or use another `results` path",
      path, kPrepFormat));
}

}  // namespace

void prepare_prep_cache(const std::string& path, const std::vector<PrepUnit>& units,
                        const metrics::Requirements& req, const nlohmann::json& identity) {
  h5::quiet();
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  if (existed && !is_prep_cache(path)) refuse_foreign(path);
  try {
    replay_journals(path);  // units a serial-HDF5 run finished before it was cut off
  } catch (const std::exception& e) {
    spdlog::warn("{}: {}; the cache is remade", path, e.what());
    std::filesystem::remove_all(journal_dir(path), ec);
    if (is_prep_cache(path)) std::filesystem::remove(path, ec);
  }
  const json ident = prep_identity(units, req, identity);
  bool reuse = false;
  if (std::filesystem::exists(path, ec)) {
    if (!is_prep_cache(path)) refuse_foreign(path);
    try {
      auto ro = h5::open_file_readonly(path);
      reuse = h5::has_attr(ro.id(), "identity") &&
              json::parse(h5::read_attr_string(ro.id(), "identity")) == ident;
    } catch (const std::exception&) {
      reuse = false;  // a cache, damaged: remade
    }
  }
  if (reuse) return;
  // Made under a temporary name and renamed: a file at `path` is always a
  // whole cache (or not prh's, and refused above), never a cut-off creation.
  write_atomically(path, [&](const std::string& tmp) { create_prep(tmp, units, req, ident); });
}

void remove_prep_cache(const std::string& path) {
  h5::quiet();
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && is_prep_cache(path)) std::filesystem::remove(path, ec);
}

// --- calibration ---------------------------------------------------------------

namespace {

constexpr const char* kCalibrationFields[] = {"pvalue",    "threshold", "calibrated",
                                              "null_mean", "null_sd",   "qvalue"};

json calibration_identity(const ResultsLayout& L, const CalibrationLayout& c, const SetInfo& s) {
  return {
      {"permutations", c.permutations},     {"alpha", c.alpha},   {"seed", std::to_string(c.seed)},
      {"configurations", c.configurations}, {"models", L.models}, {"n", s.n},
      {"models_present", s.models_present}};
}

bool symmetric_configuration(const ResultsLayout& L, const std::string& name) {
  for (const auto& c : L.configurations)
    if (c.name == name) return c.symmetric;
  throw InternalError(fmt::format("calibrated configuration {} is not in the layout", name));
}

// Whether a calibration group's null scores are stored exactly (float64, and
// the reverse orientation of asymmetric configurations): a group written
// before prh stored them so (float32) is made anew.
bool exact_nulls(h5::Id set_group, const ResultsLayout& L, const CalibrationLayout& c,
                 bool any_pair) {
  if (!any_pair) return true;
  for (const auto& name : c.configurations) {
    for (const bool reverse : {false, true}) {
      if (reverse && symmetric_configuration(L, name)) continue;
      const std::string p = name + (reverse ? "/null_scores_reverse" : "/null_scores");
      if (!h5::exists(set_group, p)) return false;
      if (h5::dataset_type_name(h5::open_dataset(set_group, p)) != "float64") return false;
    }
  }
  return true;
}

}  // namespace

std::int64_t CalibrationLayout::pair_index(int M, int i, int j) {
  // Row i starts after rows 0..i-1, which hold M-1, ..., M-i pairs.
  const auto m = static_cast<std::int64_t>(M);
  return static_cast<std::int64_t>(i) * (m - 1) - static_cast<std::int64_t>(i) * (i - 1) / 2 +
         (j - i - 1);
}

std::pair<int, int> CalibrationLayout::pair_at(int M, std::int64_t p) {
  for (int i = 0; i < M - 1; ++i) {
    const std::int64_t row = M - 1 - i;
    if (p < row) return {i, i + 1 + static_cast<int>(p)};
    p -= row;
  }
  throw InternalError("calibration pair index out of range");
}

void prepare_calibration(const std::string& path, const ResultsLayout& L,
                         const CalibrationLayout& c) {
  h5::quiet();
  auto file = open_rw(path);
  const h5::Id f = file.id();
  if (!c.enabled()) {
    h5::remove(f, "calibration");
    return;
  }
  auto root = open_or_create_group(f, "/calibration");
  h5::write_attr(root.id(), "permutations", static_cast<std::int64_t>(c.permutations));
  h5::write_attr(root.id(), "alpha", c.alpha);
  h5::write_attr(root.id(), "seed", static_cast<std::int64_t>(c.seed));
  h5::write_attr(root.id(), "configurations", json(c.configurations).dump());
  h5::write_attr(root.id(), "skipped", json(c.skipped).dump());
  h5::write_attr(root.id(), "null",
                 std::string("rows of model B (the second index) shuffled, the same "
                             "permutation for every layer; permutation t seeded from (seed, t)"));
  const auto M = static_cast<h5::hsize>(L.models.size());
  const auto P = static_cast<h5::hsize>(CalibrationLayout::pairs(static_cast<int>(M)));
  const auto K = static_cast<h5::hsize>(c.permutations);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& s : L.sets) {
    const std::string ident = calibration_identity(L, c, s).dump();
    const std::string sp = paths::calibration(s.name);
    if (h5::exists(f, sp)) {
      auto g = h5::open_group(f, sp);
      const bool same = h5::has_attr(g.id(), "identity") &&
                        h5::read_attr_string(g.id(), "identity") == ident &&
                        exact_nulls(g.id(), L, c, P > 0);
      if (same) continue;
      g = h5::Handle();
      h5::remove(root.id(), s.name);
    }
    auto g = h5::create_group(root.id(), s.name);
    for (const auto& name : c.configurations) {
      auto cg = h5::create_group(g.id(), name);
      h5::write_attr(cg.id(), "permutations", static_cast<std::int64_t>(c.permutations));
      h5::write_attr(cg.id(), "alpha", c.alpha);
      h5::write_attr(cg.id(), "seed", static_cast<std::int64_t>(c.seed));
      for (const char* field : kCalibrationFields)
        h5::create_dataset_filled(cg.id(), field, h5::ieee_f64le(), {M, M}, h5::native_double(),
                                  &nan);
      // float64: p, tau and the calibrated score recompute exactly from them.
      if (P > 0) {
        h5::create_dataset_filled(cg.id(), "null_scores", h5::ieee_f64le(), {P, K},
                                  h5::native_double(), &nan);
        if (!symmetric_configuration(L, name))
          h5::create_dataset_filled(cg.id(), "null_scores_reverse", h5::ieee_f64le(), {P, K},
                                    h5::native_double(), &nan);
      }
    }
    h5::create_dataset(g.id(), "done", h5::std_u8le(), {P}, true);
    // Written last: a group without it is remade.
    h5::write_attr(g.id(), "identity", ident);
  }
}

struct CalibrationWriter::Impl {
  struct Block {
    std::vector<std::size_t> fields;  // slots of kCalibrationFields but qvalue
    std::size_t null_scores = 0;
    std::optional<std::size_t> null_reverse;  // asymmetric configurations
  };
  std::unique_ptr<UnitFile> file;
  int M = 0, K = 0;
  std::vector<std::vector<Block>> blocks;  // [set][config]
  std::vector<std::size_t> done;           // [set]: slots of the done flags
};

CalibrationWriter::CalibrationWriter(const std::string& path, const ResultsLayout& layout,
                                     const CalibrationLayout& c, MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  impl_->file = std::make_unique<UnitFile>(path, comm);
  auto& file = *impl_->file;
  impl_->M = static_cast<int>(layout.models.size());
  impl_->K = c.permutations;
  const auto P = CalibrationLayout::pairs(impl_->M);
  for (const auto& s : layout.sets) {
    std::vector<Impl::Block> row;
    for (const auto& name : c.configurations) {
      Impl::Block b;
      const std::string p = paths::calibration(s.name, name);
      for (int k = 0; k < 5; ++k) b.fields.push_back(file.dataset(p + "/" + kCalibrationFields[k]));
      if (P > 0) {
        b.null_scores = file.dataset(p + "/null_scores");
        if (!symmetric_configuration(layout, name))
          b.null_reverse = file.dataset(p + "/null_scores_reverse");
      }
      row.push_back(std::move(b));
    }
    impl_->blocks.push_back(std::move(row));
    impl_->done.push_back(file.flags(paths::calibration(s.name) + "/done"));
    PRH_ASSERT(static_cast<std::int64_t>(file.flag_count(impl_->done.back())) == P,
               "calibration of set {}: {} done flags for {} pairs", s.name,
               file.flag_count(impl_->done.back()), P);
  }
}

CalibrationWriter::~CalibrationWriter() = default;

bool CalibrationWriter::done(int set, std::int64_t pair) const {
  return impl_->file->done(impl_->done[static_cast<std::size_t>(set)],
                           static_cast<std::size_t>(pair));
}

void CalibrationWriter::write(int set, int config, int a, int b, const CalibrationCell& cell) {
  auto& blk = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  const double v[5] = {cell.pvalue, cell.threshold, cell.calibrated, cell.null_mean, cell.null_sd};
  for (int k = 0; k < 5; ++k)
    impl_->file->write(blk.fields[static_cast<std::size_t>(k)], h5::native_double(),
                       {static_cast<h5::hsize>(a), static_cast<h5::hsize>(b)}, {1, 1}, &v[k]);
}

void CalibrationWriter::write_null(int set, int config, std::int64_t pair,
                                   const std::vector<double>& null, bool reverse) {
  auto& blk = impl_->blocks[static_cast<std::size_t>(set)][static_cast<std::size_t>(config)];
  PRH_ASSERT(static_cast<int>(null.size()) == impl_->K, "null scores: {} of {}", null.size(),
             impl_->K);
  PRH_ASSERT(!reverse || blk.null_reverse, "reverse null scores of a symmetric configuration");
  impl_->file->write(reverse ? *blk.null_reverse : blk.null_scores, h5::native_double(),
                     {static_cast<h5::hsize>(pair), 0}, {1, static_cast<h5::hsize>(impl_->K)},
                     null.data());
}

void CalibrationWriter::mark_done(int set, std::int64_t pair) {
  impl_->file->mark(impl_->done[static_cast<std::size_t>(set)], static_cast<std::size_t>(pair));
}

std::vector<double> read_calibration(const std::string& path, const std::string& set,
                                     const std::string& config, const std::string& name) {
  auto file = h5::open_file_readonly(path);
  auto ds = h5::open_dataset(file, path, paths::calibration(set, config) + "/" + name);
  const auto shape = h5::dataset_shape(ds);
  std::vector<double> v(shape[0] * shape[1]);
  if (!v.empty())
    h5::read_box(ds.id(), h5::native_double(), {0, 0}, {shape[0], shape[1]}, v.data());
  return v;
}

std::vector<float> read_null_scores(const std::string& path, const std::string& set,
                                    const std::string& config) {
  auto file = h5::open_file_readonly(path);
  const std::string p = paths::calibration(set, config) + "/null_scores";
  if (!h5::exists(file.id(), p)) return {};
  auto ds = h5::open_dataset(file, path, p);
  const auto shape = h5::dataset_shape(ds);
  // Stored as float64 (float32 before); the correlation null is computed from
  // them rounded to float, as it always was.
  std::vector<double> v(shape[0] * shape[1]);
  if (!v.empty())
    h5::read_box(ds.id(), h5::native_double(), {0, 0}, {shape[0], shape[1]}, v.data());
  std::vector<float> out(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) out[k] = static_cast<float>(v[k]);
  return out;
}

// --- progress, read-only (prh status) ------------------------------------------

namespace {

// A 1-D uint8 dataset's values, with the units waiting in journals set;
// `n` zeros when it is absent or has another length.
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

}  // namespace

ResultsProgress read_results_progress(const std::string& path, const ResultsLayout& L,
                                      const CalibrationLayout& c) {
  ResultsProgress out;
  const auto M = static_cast<int>(L.models.size());
  const auto P = static_cast<std::size_t>(L.pairs());
  const auto Pc = static_cast<std::size_t>(CalibrationLayout::pairs(M));
  out.exists = std::filesystem::exists(path);
  h5::quiet();
  h5::Handle file;
  if (out.exists) {
    try {
      file = h5::open_file_readonly(path);
      out.readable =
          h5::has_attr(file.id(), "format") && h5::read_attr_string(file.id(), "format") == kFormat;
    } catch (const std::exception&) {
      out.readable = false;
    }
  }
  h5::Id f = -1;
  if (out.readable) {
    f = file.id();
    out.complete = h5::has_attr(f, "complete") && h5::read_attr_int(f, "complete") == 1;
    out.derived_hash =
        h5::has_attr(f, "derived_hash") ? h5::read_attr_string(f, "derived_hash") : "";
    out.config = h5::has_attr(f, "config") ? h5::read_attr_string(f, "config") : "";
    std::vector<std::string> changed;
    if (h5::has_attr(f, "identity")) {
      try {
        detail::json_diff(json::parse(h5::read_attr_string(f, "identity")), L.identity, "",
                          changed);
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
      const auto d =
          progress_flags(ps.stored ? f : -1, config_path(s.name, conf.name) + "/done", P, journal);
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
        keep = h5::has_attr(g.id(), "identity") &&
               h5::read_attr_string(g.id(), "identity") == calibration_identity(L, c, s).dump() &&
               exact_nulls(g.id(), L, c, Pc > 0);
      }
      ps.calibration_remade = f >= 0 && !keep && h5::exists(f, sp);
      ps.calibrate_done = progress_flags(keep ? f : -1, sp + "/done", Pc, journal);
    }
    out.sets.push_back(std::move(ps));
  }
  return out;
}

PrepProgress read_prep_progress(const std::string& results, const std::vector<PrepUnit>& units,
                                const metrics::Requirements& req, const nlohmann::json& identity) {
  PrepProgress out;
  const std::string path = prep_cache_path(results);
  out.exists = std::filesystem::exists(path);
  h5::quiet();
  h5::Handle file;
  if (out.exists) {
    try {
      file = h5::open_file_readonly(path);
      const h5::Id f = file.id();
      out.matches =
          h5::has_attr(f, "format") && h5::read_attr_string(f, "format") == kPrepFormat &&
          h5::has_attr(f, "identity") &&
          json::parse(h5::read_attr_string(f, "identity")) == prep_identity(units, req, identity);
    } catch (const std::exception&) {
      out.matches = false;
    }
  }
  const auto journal =
      out.matches ? journal_flags(path) : std::map<std::string, std::set<std::uint64_t>>{};
  for (const auto& [p, u] : journal) out.journal_units += static_cast<std::int64_t>(u.size());
  out.done = progress_flags(out.matches ? file.id() : -1, "done", units.size(), journal);
  return out;
}

// --- serial readers and the derived tables ----------------------------------

std::vector<double> read_scores(const std::string& path, const std::string& set,
                                const std::string& config) {
  auto file = h5::open_file_readonly(path);
  auto ds = h5::open_dataset(file, path, config_path(set, config) + "/scores");
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
    if (!h5::has_attr(f, "format") || h5::read_attr_string(f, "format") != kFormat)
      return {false, ""};
    bool complete = false;
    if (h5::has_attr(f, "complete")) {
      complete = h5::read_attr_int(f, "complete") == 1;
    }
    const std::string hash =
        h5::has_attr(f, "derived_hash") ? h5::read_attr_string(f, "derived_hash") : "";
    return {complete, hash};
  } catch (const std::exception&) {
    return {false, ""};
  }
}

namespace {

void write_sweep(h5::Id parent, const SweepDerived& x, h5::hsize K) {
  auto g = h5::create_group(parent, x.name);
  // every dataset name checked against the schema (/sweeps/{sweep}/...)
  const auto n = [&](std::string_view name) {
    return schema::child(schema::kSweep, name, {{"method", x.method}});
  };
  const auto L = static_cast<h5::hsize>(x.levels.size());
  const auto M = static_cast<h5::hsize>(L ? x.accuracy.size() / L : 0);
  h5::write_attr(g.id(), "family", x.family);
  h5::write_attr(g.id(), "base", x.base);
  h5::write_attr(g.id(), "parameter", x.parameter);
  h5::write_attr(g.id(), "description", x.description);
  h5::write_attr(g.id(), "alpha", x.alpha);
  h5::write_attr(g.id(), "breaking_fraction", x.breaking_fraction);
  h5::write_attr(g.id(), "relative_breaking", x.relative_breaking);
  h5::write_attr(g.id(), "significant_fraction_is",
                 std::string("power curve: share of pairs with q < alpha at `images` images per "
                             "level; it grows with the images, it is not an effect size"));
  h5::write_attr(g.id(), "correlation_test_codes",
                 std::string("1: calibration null (one-sided p of the coefficient over the pairs' "
                             "null scores); 0: not tested (no calibration null)"));
  h5::write_attr(g.id(), "bootstrap", static_cast<std::int64_t>(x.bootstrap));
  h5::write_attr(g.id(), "confidence", x.confidence);
  h5::write_attr(g.id(), "seed", static_cast<std::int64_t>(x.seed));
  h5::write_attr(g.id(), "resampling", std::string("models"));
  h5::write_attr(g.id(), "calibrated", static_cast<std::int64_t>(x.calibrated));
  h5::write_attr(g.id(), "method", x.method);
  h5::write_doubles(g.id(), n("levels"), {L}, x.levels);
  h5::write_strings(g.id(), n("sets"), x.sets);
  h5::write_int64s(g.id(), n("images"), {L}, x.images);
  const std::pair<std::string, const std::vector<double>*> lk[] = {
      {n("mean"), &x.mean},
      {n("mean_ci_low"), &x.mean_ci_low},
      {n("mean_ci_high"), &x.mean_ci_high},
      {n("calibrated_mean"), &x.calibrated_mean},
      {n("calibrated_mean_ci_low"), &x.calibrated_ci_low},
      {n("calibrated_mean_ci_high"), &x.calibrated_ci_high},
      {n("significant_fraction"), &x.significant},
      {n("significant_fraction_ci_low"), &x.significant_ci_low},
      {n("significant_fraction_ci_high"), &x.significant_ci_high},
      {n("relative_calibrated"), &x.relative},
      {n("relative_calibrated_ci_low"), &x.relative_ci_low},
      {n("relative_calibrated_ci_high"), &x.relative_ci_high},
      {n("chance_share"), &x.chance_share}};
  for (const auto& [name, v] : lk) h5::write_doubles(g.id(), name, {L, K}, *v);
  if (x.chance_level.size() == L * K)
    h5::write_doubles(g.id(), n("chance_level"), {L, K}, x.chance_level);
  const std::pair<std::string, const std::vector<double>*> k1[] = {
      {n("breaking_level"), &x.breaking_level},
      {n("breaking_level_low"), &x.breaking_level_low},
      {n("breaking_level_high"), &x.breaking_level_high},
      {n("breaking_agreement"), &x.breaking_agreement},
      {n("relative_breaking_level"), &x.relative_breaking_level},
      {n("relative_breaking_level_low"), &x.relative_breaking_level_low},
      {n("relative_breaking_level_high"), &x.relative_breaking_level_high},
      {n("relative_breaking_agreement"), &x.relative_breaking_agreement}};
  for (const auto& [name, v] : k1) h5::write_doubles(g.id(), name, {K}, *v);
  const std::pair<std::string, const std::vector<double>*> lkk[] = {
      {n("{method}"), &x.r},
      {n("{method}_ci_low"), &x.r_ci_low},
      {n("{method}_ci_high"), &x.r_ci_high},
      {n("{method}_mantel_p"), &x.mantel_p},
      {n("{method}_null_mean"), &x.null_mean},
      {n("{method}_null_q95"), &x.null_q95},
      {n("{method}_null_p"), &x.null_p},
      {n("correlation_p"), &x.test_p}};
  for (const auto& [name, v] : lkk) h5::write_doubles(g.id(), name, {L, K, K}, *v);
  h5::write_int64s(g.id(), n("correlation_test"), {K, K}, x.correlation_test);
  h5::write_doubles(g.id(), n("correlation_breaking_level"), {K, K}, x.correlation_breaking_level);
  h5::write_doubles(g.id(), n("accuracy"), {L, M}, x.accuracy);
  h5::write_doubles(g.id(), n("mean_prob"), {L, M}, x.mean_prob);
  h5::write_doubles(g.id(), n("agreement"), {L}, x.agreement);
}

}  // namespace

void write_derived(const std::string& path, const Derived& d) {
  h5::quiet();
  auto file = open_rw(path);
  const h5::Id f = file.id();
  const auto K = static_cast<h5::hsize>(d.configurations.size());
  const json configs = d.configurations, methods = d.methods;
  h5::remove(f, "correlation");
  h5::remove(f, "predictions");
  h5::remove(f, "comparison");
  h5::remove(f, "sweeps");
  h5::write_attr(f, "complete", std::int64_t{0});
  auto corr = h5::create_group(f, "/correlation");
  auto pred = h5::create_group(f, "/predictions");
  if (!d.model_label_spaces.empty())
    h5::write_attr(pred.id(), "model_label_spaces", json(d.model_label_spaces).dump());
  for (const auto& s : d.sets) {
    const auto M = static_cast<h5::hsize>(s.accuracy.size());
    auto g = h5::create_group(corr.id(), s.set);
    // dataset names checked against the schema (/correlation/{set}/...)
    const auto cn = [](std::string_view name, std::string_view method = "") {
      return schema::child(schema::kCorrelationSet, name, {{"method", method}});
    };
    h5::write_attr(g.id(), "configurations", configs.dump());
    h5::write_attr(g.id(), "methods", methods.dump());
    h5::write_attr(g.id(), "pairs", s.model_pairs);
    h5::write_attr(g.id(), "bootstrap", static_cast<std::int64_t>(d.bootstrap));
    h5::write_attr(g.id(), "confidence", d.confidence);
    h5::write_attr(g.id(), "seed", static_cast<std::int64_t>(d.seed));
    h5::write_attr(g.id(), "resampling", std::string("models"));
    h5::write_attr(g.id(), "mantel", static_cast<std::int64_t>(d.mantel));
    h5::write_attr(g.id(), "vector", std::string("upper triangle, i < j"));
    for (const auto& t : s.correlations) {
      h5::write_doubles(g.id(), cn("{method}", t.method), {K, K}, t.r);
      h5::write_doubles(g.id(), cn("{method}_pvalue", t.method), {K, K}, t.p);
      h5::write_int64s(g.id(), cn("{method}_n", t.method), {K, K}, t.n);
      if (!t.ci_low.empty()) {
        h5::write_doubles(g.id(), cn("{method}_ci_low", t.method), {K, K}, t.ci_low);
        h5::write_doubles(g.id(), cn("{method}_ci_high", t.method), {K, K}, t.ci_high);
        if (!t.ci_p.empty())
          h5::write_doubles(g.id(), cn("{method}_ci_pvalue", t.method), {K, K}, t.ci_p);
      }
      if (!t.mantel_p.empty())
        h5::write_doubles(g.id(), cn("{method}_mantel_p", t.method), {K, K}, t.mantel_p);
      if (!t.null_mean.empty()) {
        h5::write_doubles(g.id(), cn("{method}_null_mean", t.method), {K, K}, t.null_mean);
        h5::write_doubles(g.id(), cn("{method}_null_q95", t.method), {K, K}, t.null_q95);
        h5::write_doubles(g.id(), cn("{method}_null_p", t.method), {K, K}, t.null_p);
      }
      h5::write_doubles(g.id(), cn("accuracy_{method}", t.method), {K}, t.acc_r);
      h5::write_doubles(g.id(), cn("accuracy_{method}_pvalue", t.method), {K}, t.acc_p);
      h5::write_int64s(g.id(), cn("accuracy_{method}_n", t.method), {K}, t.acc_n);
    }
    h5::write_doubles(g.id(), cn("mean_alignment"), {K, M}, s.mean_alignment);
    if (!s.chance_share.empty()) h5::write_doubles(g.id(), cn("chance_share"), {K}, s.chance_share);
    if (!s.mean.empty()) {
      h5::write_attr(g.id(), "mean_seed", static_cast<std::int64_t>(d.mean_seed));
      const std::pair<std::string, const std::vector<double>*> means[] = {
          {cn("mean"), &s.mean},
          {cn("mean_ci_low"), &s.mean_ci_low},
          {cn("mean_ci_high"), &s.mean_ci_high},
          {cn("calibrated_mean"), &s.calibrated_mean},
          {cn("calibrated_mean_ci_low"), &s.calibrated_mean_ci_low},
          {cn("calibrated_mean_ci_high"), &s.calibrated_mean_ci_high}};
      for (const auto& [name, v] : means) h5::write_doubles(g.id(), name, {K}, *v);
    }
    for (const auto& q : s.qvalues) {
      auto ds = h5::open_dataset(f, schema::path("/calibration/{set}/{config}/qvalue",
                                                 {{"set", s.set}, {"config", q.config}}));
      h5::write_box(ds.id(), h5::native_double(), {0, 0}, {M, M}, q.qvalue.data());
    }

    auto p = h5::create_group(pred.id(), s.set);
    h5::write_attr(p.id(), "n", s.n);
    h5::write_attr(p.id(), "labelled", s.labelled);
    h5::write_attr(p.id(), "label_space", s.label_space);
    if (s.labels_match.size() == M)
      h5::write_int64s(p.id(), schema::child(schema::kPredictionsSet, "labels_match"), {M},
                       s.labels_match);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "accuracy"), {M}, s.accuracy);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "mean_prob"), {M},
                      s.mean_prob);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "mean_prob_wrong"), {M},
                      s.mean_prob_wrong);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "agreement"), {M, M},
                      s.agreement);
    h5::write_int64s(p.id(), schema::child(schema::kPredictionsSet, "both_wrong"), {M, M},
                     s.both_wrong);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "agreement_both_wrong"),
                      {M, M}, s.agreement_both_wrong);
  }
  if (!d.comparisons.empty()) {
    auto cmp = h5::create_group(f, "/comparison");
    for (const auto& c : d.comparisons) {
      auto a = open_or_create_group(cmp.id(), c.set_a);
      auto g = h5::create_group(a.id(), c.set_b);
      h5::write_attr(g.id(), "sets", json{c.set_a, c.set_b}.dump());
      h5::write_attr(g.id(), "methods", methods.dump());
      h5::write_attr(g.id(), "bootstrap", static_cast<std::int64_t>(d.bootstrap));
      h5::write_attr(g.id(), "confidence", d.confidence);
      h5::write_attr(g.id(), "seed", static_cast<std::int64_t>(d.seed));
      h5::write_attr(g.id(), "test", std::string("paired bootstrap over models"));
      for (const auto& t : c.methods) {
        h5::write_doubles(
            g.id(), schema::child(schema::kComparisonPair, "{method}_diff", {{"method", t.method}}),
            {K, K}, t.diff);
        h5::write_doubles(
            g.id(),
            schema::child(schema::kComparisonPair, "{method}_diff_ci_low", {{"method", t.method}}),
            {K, K}, t.ci_low);
        h5::write_doubles(
            g.id(),
            schema::child(schema::kComparisonPair, "{method}_diff_ci_high", {{"method", t.method}}),
            {K, K}, t.ci_high);
        h5::write_doubles(
            g.id(),
            schema::child(schema::kComparisonPair, "{method}_diff_pvalue", {{"method", t.method}}),
            {K, K}, t.p);
      }
    }
  }
  if (!d.sweeps.empty()) {
    auto sw = h5::create_group(f, "/sweeps");
    for (const auto& x : d.sweeps) write_sweep(sw.id(), x, K);
  }
  h5::write_attr(f, "derived_hash", d.hash);
  h5::write_attr(f, "complete", std::int64_t{1});
}

}  // namespace prh::store
