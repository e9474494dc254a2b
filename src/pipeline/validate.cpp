#include "prh/pipeline/validate.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>

#include "prh/core/error.hpp"
#include "prh/data/image.hpp"
#include "prh/data/views.hpp"
#include "prh/metrics/registry.hpp"
#include "prh/models/model.hpp"
#include "prh/store/imported_features.hpp"
#include "prh/store/output_paths.hpp"
#include "set_views.hpp"

namespace prh::pipeline {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Images in a source whose size its spec says (the count of a noise, shapes
// or patches source; a blend has its base's size); nullopt where only the
// files can tell (`limit` is only an upper bound).
std::optional<std::int64_t> size_from_spec(const json& spec) {
  if (!spec.is_object() || !spec.contains("kind")) return std::nullopt;
  const auto kind = spec.at("kind");
  if ((kind == "noise" || kind == "shapes" || kind == "patches") && spec.contains("count") &&
      spec.at("count").is_number_integer())
    return spec.at("count").get<std::int64_t>();
  if (kind == "blend" && spec.contains("base")) return size_from_spec(spec.at("base"));
  if (kind == "subsample" && spec.contains("count") && spec.at("count").is_number_integer())
    return spec.at("count").get<std::int64_t>();
  return std::nullopt;
}

// A subsample source whose count exceeds its base's image count, where the
// base's spec tells that count (make_source checks it when it opens the base).
void check_subsample(const json& spec, const std::string& who, std::vector<std::string>& problems) {
  if (!spec.is_object() || spec.value("kind", json()) != "subsample" || !spec.contains("base") ||
      !spec.contains("count") || !spec.at("count").is_number_integer())
    return;
  const auto have = size_from_spec(spec.at("base"));
  const auto n = spec.at("count").get<std::int64_t>();
  if (have && n > *have)
    problems.push_back(fmt::format(
        "{}: subsample of {} images, but its base has only {} images (a subsample level must be "
        "at most the base's image count)",
        who, n, *have));
}

using Configuration = metrics::ListedMetric;

// What a configuration needs of the number of images N (the metrics layer
// checks the same, and the feature dimensions, when it computes).
void check_size(const Configuration& c, const std::string& set, std::int64_t n,
                std::vector<std::string>& problems) {
  const auto& s = c.spec;
  const std::string where =
      fmt::format("{} ({} image{}): {} ({})", set, n, n == 1 ? "" : "s", c.label, s.name());
  if (s.uses_knn() && s.k > n - 1)
    problems.push_back(
        fmt::format("{}: k = {} is too large: k <= N - 1 = {} (an image is not its own neighbour)",
                    where, s.k, n - 1));
  if ((s.kind == metrics::MetricKind::UnbiasedCka || s.kind == metrics::MetricKind::Cknna) && n < 4)
    problems.push_back(fmt::format("{}: the unbiased HSIC estimator needs N >= 4 images", where));
  if (s.kind == metrics::MetricKind::Svcca && s.cca_dim > n - 1)
    problems.push_back(fmt::format("{}: cca_dim = {} is too large: cca_dim <= N - 1 = {}", where,
                                   s.cca_dim, n - 1));
  if (n < 2) problems.push_back(fmt::format("{}: needs at least 2 images", where));
}

// Imported features: every file exists; HDF5 and .npy headers (cheap) give
// the rows (against the set's size where known) and the layers (the same in
// every set). A torch.save file is only checked to exist (reading it means
// loading it whole; `prh embed` checks it).
void check_imported(const config::Sweep& sweep, const config::Model& m, std::size_t i,
                    const std::vector<std::optional<std::int64_t>>& sizes,
                    std::vector<std::string>& problems) {
  const std::string who = fmt::format("models[{}] '{}'", i, m.name);
  std::optional<store::FeatureShape> first;
  std::string first_set;
  for (std::size_t s = 0; s < sweep.image_sets.size(); ++s) {
    const auto& set = sweep.image_sets[s].name;
    const auto f = m.features.find(set);
    if (f == m.features.end()) continue;
    const std::string where = fmt::format("{}, image set '{}'", who, set);
    try {
      const std::string file = store::feature_file(f->second);
      std::error_code ec;
      PRH_CHECK_INPUT(fs::is_regular_file(file, ec) && ::access(file.c_str(), R_OK) == 0,
                      "feature file '{}' does not exist or cannot be read", file);
      if (store::feature_format(f->second) == store::FeatureFormat::kTorch) continue;
      const auto shape = store::feature_shape(f->second);
      if (s < sizes.size() && sizes[s] && *sizes[s] != shape.n)
        problems.push_back(fmt::format("{}: {} holds features of {} images, the set has {} images",
                                       where, f->second, shape.n, *sizes[s]));
      if (!first) {
        first = shape;
        first_set = set;
      } else if (first->layers != shape.layers || first->dim != shape.dim) {
        problems.push_back(fmt::format(
            "{}: {} has {} layers of width {}, image set '{}' has {} layers of width {}: every "
            "set's features of a model must have the same layers",
            where, f->second, shape.layers, shape.dim, first_set, first->layers, first->dim));
      }
    } catch (const InputError& e) {
      problems.push_back(fmt::format("{}: {}", where, e.what()));
    }
  }
}

void check_model_files(const config::Model& m, std::size_t i, std::vector<std::string>& problems) {
  const std::string who = fmt::format("models[{}] '{}'", i, m.name);
  std::error_code ec;
  const auto st = fs::status(m.path, ec);
  if (!fs::exists(st)) {
    problems.push_back(fmt::format("{}: model file '{}' does not exist", who, m.path));
  } else if (!fs::is_regular_file(st)) {
    problems.push_back(fmt::format("{}: model file '{}' is not a regular file", who, m.path));
  } else if (std::ifstream in(m.path, std::ios::binary);
             !in.good() || ::access(m.path.c_str(), R_OK) != 0) {
    problems.push_back(fmt::format("{}: model file '{}' cannot be read", who, m.path));
  }
  try {
    (void)models::load_sidecar(m.sidecar);
  } catch (const InputError& e) {
    problems.push_back(fmt::format("{}: {}", who, e.what()));
  }
}

// The file `file` (of config field `field`) can be written: it is a writable
// file, or its folder exists and is writable, or the nearest existing
// ancestor of that folder is a writable folder (so it can be created).
void check_output(const std::string& field, const std::string& file,
                  std::vector<std::string>& problems) {
  const std::string who = fmt::format("{} '{}'", field, file);
  std::error_code ec;
  const fs::path p(file);
  if (fs::exists(p, ec)) {
    if (fs::is_directory(p, ec))
      problems.push_back(fmt::format("{}: is a folder, not a file", who));
    else if (::access(file.c_str(), R_OK | W_OK) != 0)
      problems.push_back(fmt::format("{}: exists but is not writable", who));
    return;
  }
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  fs::path a = dir;
  while (!fs::exists(a, ec)) {
    const fs::path up = a.parent_path();
    if (up.empty()) {
      a = ".";
      break;
    }
    if (up == a) break;
    a = up;
  }
  if (!fs::is_directory(a, ec)) {
    problems.push_back(fmt::format("{}: folder '{}' cannot be created: '{}' is not a folder", who,
                                   dir.string(), a.string()));
  } else if (::access(a.c_str(), W_OK | X_OK) != 0) {
    if (a == dir)
      problems.push_back(fmt::format("{}: folder '{}' is not writable", who, dir.string()));
    else
      problems.push_back(fmt::format("{}: folder '{}' cannot be created: '{}' is not writable", who,
                                     dir.string(), a.string()));
  }
}

// Which sets are views, as `prh embed` decides (set_views.hpp).
void find_views(const config::Sweep& sweep,
                const std::vector<std::unique_ptr<data::Source>>& sources, ValidateReport& r) {
  try {
    const auto views = find_set_views(sweep, sources);
    for (std::size_t s = 0; s < views.size(); ++s) {
      if (views[s].base < 0) continue;
      r.view_of[s] = sweep.image_sets[static_cast<std::size_t>(views[s].base)].name;
      r.view_rows[s] = static_cast<std::int64_t>(views[s].rows.size());
    }
  } catch (const std::exception& e) {
    r.problems.emplace_back(e.what());
  }
}

template <typename T>
std::string count_of(T n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

ValidateReport validate(const config::Sweep& sweep, const ValidateOptions& opt) {
  ValidateReport r;
  auto& problems = r.problems;
  const auto configs = metrics::parse_metric_list(sweep.metrics, problems);
  r.metric_configurations = configs.size();

  // Image sets: their sizes (opening the sources when paths are checked).
  std::vector<std::unique_ptr<data::Source>> sources(sweep.image_sets.size());
  for (std::size_t i = 0; i < sweep.image_sets.size(); ++i) {
    const auto& set = sweep.image_sets[i];
    const std::string who = fmt::format("image_sets[{}] '{}'", i, set.name);
    std::optional<std::int64_t> size;
    if (opt.check_paths) {
      try {
        sources[i] = data::make_source(set.source.spec, who);
        size = sources[i]->size();
      } catch (const InputError& e) {
        problems.emplace_back(e.what());
      } catch (const std::exception& e) {
        problems.push_back(fmt::format("{}: cannot open the source: {}", who, e.what()));
      }
    }
    if (!size) {
      check_subsample(set.source.spec, who, problems);
      size = size_from_spec(set.source.spec);
    }
    r.set_sizes.push_back(size);
    if (size)
      for (const auto& c : configs) check_size(c, who, *size, problems);
  }

  r.view_of.assign(sweep.image_sets.size(), "");
  r.view_rows.assign(sweep.image_sets.size(), 0);
  if (opt.check_paths && problems.empty()) find_views(sweep, sources, r);

  if (opt.check_paths) {
    for (std::size_t i = 0; i < sweep.models.size(); ++i)
      if (sweep.models[i].imported())
        check_imported(sweep, sweep.models[i], i, r.set_sizes, problems);
      else
        check_model_files(sweep.models[i], i, problems);
    check_output("store", sweep.store, problems);
    check_output("results", sweep.results, problems);
    for (const auto& p : store::output_path_problems(sweep.store, sweep.results))
      problems.push_back(p);
    // The GPUs asked for (docs/gpu.md): embed and reduce would stop before any work.
    for (const auto& [key, value] :
         {std::pair{"device", sweep.device}, std::pair{"reduce_device", sweep.reduce_device}})
      if (value == "cuda" && !opt.cuda_usable)
        problems.push_back(fmt::format(
            "{}: cuda, but this prh's LibTorch has no CUDA support or sees no GPU here; set "
            "{}: cpu, or validate on the GPU node",
            key, key));
  }
  return r;
}

std::string summary(const config::Sweep& sweep, const ValidateReport& report) {
  std::string sets = count_of(sweep.image_sets.size(), "image set", "image sets");
  std::vector<std::string> known, named;
  for (std::size_t i = 0; i < report.set_sizes.size(); ++i)
    if (const auto& n = report.set_sizes[i]) {
      known.push_back(std::to_string(*n));
      named.push_back(fmt::format("{}: {}", sweep.image_sets[i].name, *n));
    }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  if (!known.empty() && known.size() == sweep.image_sets.size())
    sets += fmt::format(" ({} images)", join(known));
  else if (!known.empty())
    sets += fmt::format(" ({} images; the others' sizes need the paths)", join(named));
  std::string out = fmt::format(
      "{}: OK: {}, {}, {}", sweep.file, sets, count_of(sweep.models.size(), "model", "models"),
      count_of(report.metric_configurations, "metric configuration", "metric configurations"));
  std::vector<std::string> views;
  for (std::size_t i = 0; i < report.view_of.size() && i < sweep.image_sets.size(); ++i)
    if (!report.view_of[i].empty())
      views.push_back(fmt::format("{} ({} rows of {})", sweep.image_sets[i].name,
                                  report.view_rows[i], report.view_of[i]));
  if (!views.empty())
    out += fmt::format(
        "\n{} (image sets that are rows of another set, read through them, not embedded): {}",
        count_of(views.size(), "view", "views"), join(views));
  return out;
}

int run_validate(const std::string& config_path, const ValidateOptions& opt, std::ostream& out,
                 std::ostream& err) {
  config::Sweep sweep;
  try {
    sweep = config::load(config_path);
  } catch (const InputError& e) {
    err << e.what() << std::endl;
    return kExitBadInput;
  }
  const ValidateReport r = validate(sweep, opt);
  if (!r.problems.empty()) {
    err << fmt::format("{}: {} problem{} in the config:", config_path, r.problems.size(),
                       r.problems.size() == 1 ? "" : "s");
    for (const auto& p : r.problems) err << "\n  - " << p;
    err << std::endl;
    return kExitBadInput;
  }
  out << summary(sweep, r) << (opt.check_paths ? "" : " (paths not checked)") << std::endl;
  return kExitOk;
}

}  // namespace prh::pipeline
