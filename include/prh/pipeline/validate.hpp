#pragma once
// `prh validate CONFIG [--no-paths]`: checks a sweep config without computing
// anything and lists every problem at once, each naming what it is about (a
// field, a file, a model, an image set, a metric configuration):
//   - the schema (config::load);
//   - every metric configuration parses, and no two are the same;
//   - each kNN / cknna configuration's k fits every image set of known size
//     (k <= N - 1), and the other metrics' size limits;
//   - with paths: model files are readable regular files, their sidecars load,
//     image sources open (which gives their real sizes), and the folders of
//     `store` and `results` exist or can be created; and which sets are
//     views (docs/store.md, "Views": rows of an earlier set, never embedded),
//     found as `prh embed` finds them (data::view_rows).

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "prh/config/config.hpp"

namespace prh::pipeline {

struct ValidateOptions {
  bool check_paths = true;  // false: --no-paths (nothing on disk is looked at)
  // Whether this prh's LibTorch has CUDA and sees a GPU (the cli asks
  // accel::cuda_usable()); with check_paths, a config asking for cuda
  // (device, reduce_device) on a machine without one is a problem.
  bool cuda_usable = true;
};

struct ValidateReport {
  std::vector<std::string> problems;
  // Images per set, where known (noise counts; with paths, the opened sources).
  std::vector<std::optional<std::int64_t>> set_sizes;
  std::size_t metric_configurations = 0;  // after defaults are filled in
  // Per set (with paths): the set whose rows it is ("" : embedded, or not
  // known without paths), and how many of that set's rows it reads.
  std::vector<std::string> view_of;
  std::vector<std::int64_t> view_rows;
};

// Checks a parsed (schema-valid) sweep.
ValidateReport validate(const config::Sweep& sweep, const ValidateOptions& opt);

// The one-line summary of a report without problems, e.g. "configs/x.yaml:
// OK: 3 image sets (1000, 1000, 1000 images), 17 models, 26 metric
// configurations"; with views, a second line naming them, e.g. "2 views
// (image sets that are rows of another set, read through them, not
// embedded): id@subsample=250 (250 rows of id), id@blend=0 (1000 rows of id)".
std::string summary(const config::Sweep& sweep, const ValidateReport& report);

// Loads CONFIG and checks it; prints the summary on `out` and returns 0, or
// every problem on `err` and returns kExitBadInput.
int run_validate(const std::string& config_path, const ValidateOptions& opt, std::ostream& out,
                 std::ostream& err);

}  // namespace prh::pipeline
