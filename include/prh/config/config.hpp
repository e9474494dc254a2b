#pragma once
// The sweep configuration (YAML): schema, validation with messages that name
// the field and say what is allowed, and the canonical form of its
// result-relevant parts (what the store records and checks on resume).
// Reference of every key: docs/config.md.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace prh::config {

// An image source; `spec` is its canonical JSON (kind plus every parameter,
// defaults filled in), which is also what the data layer builds it from.
struct SourceSpec {
  std::string kind;  // idx | folder | list | hdf5 | noise | blend | patch_shuffle | phase_scramble
                     // | subsample
  nlohmann::json spec;
};

// Where a generated image set comes from: one level of a `sweeps:` entry.
struct SweepLevel {
  std::string sweep;   // the sweep's name
  std::string family;  // blend | patch_shuffle | phase_scramble | subsample
  std::string base;    // the image set it starts from
  nlohmann::json
      level;      // a number (blend, phase_scramble) or an integer (patch_shuffle, subsample)
  int index = 0;  // position in the sweep's levels
};

struct ImageSet {
  std::string name;
  SourceSpec source;
  std::optional<SweepLevel> sweep;  // set for the sets a sweep generates
};

// A sweep as configured: the image sets it generated are in Sweep::image_sets
// (named BASE@FAMILY=LEVEL, after the listed ones), in the order of `levels`.
struct SweepSpec {
  std::string name, family, base;
  nlohmann::json levels;          // as given, canonical numbers
  std::vector<std::string> sets;  // the generated image set names
  // Effect-size breaking (docs/sweeps.md): the first level whose mean
  // calibrated score, relative to the first level's, is below this; (0, 1).
  double relative_breaking = 0.5;
};

struct Model {
  std::string name;
  std::string path;     // TorchScript file ("" for imported features)
  std::string sidecar;  // its preprocessing (YAML); default: path with .yaml
  // Imported features (docs/config.md, "Imported features"): image set ->
  // its feature file, "FILE.h5:/dataset", "FILE.npy" or "FILE.pt" (rows in
  // the set's image order). Empty for a TorchScript model. A model with
  // features is absent from the sets it gives none for.
  std::map<std::string, std::string> features;
  bool imported() const { return !features.empty(); }
  // Whether the model has (or will have) features for this image set.
  bool has_set(const std::string& set) const { return features.empty() || features.count(set); }
  // Descriptive metadata (optional; not part of the config hash): what the
  // model was trained on, its architecture family and objective. reduce's
  // group analysis compares pairs within and across them.
  std::string training_data, family, objective;
};

struct Preprocess {
  bool clamp = true;
  double q = 0.95;
  bool exact = false;
  bool normalize = true;
};

// Permutation calibration of every pair's score (docs/calibration.md): off
// when permutations = 0 (the default, and when the `calibration` key is absent).
struct Calibration {
  int permutations = 0;  // K: shuffles of one model's rows per pair
  double alpha = 0.05;   // level of the threshold tau and of the q < alpha summary
  std::uint64_t seed = 0;
  // Configurations to calibrate, as written in `metrics` (empty: every one
  // whose null is implemented; the others are skipped with a warning).
  std::vector<std::string> metrics;
};

struct Sweep {
  std::string file;  // where the config was read from
  std::string store;
  std::string results;
  std::uint64_t seed = 0;
  int batch_size = 64;
  int shard_size = 256;
  std::string device = "cpu";
  int threads_per_rank = 1;
  std::string feature_dtype = "float32";
  std::string on_bad_image = "error";  // error | skip
  Preprocess preprocess;
  bool last_layer_only = false;
  // Score every layer pair and write /layers and /layer_profile (the
  // layer-by-layer matrices and the relative-depth summary) without changing
  // the headline scores (docs/results.md). Default: !last_layer_only.
  bool layer_profile = true;
  // Metric configurations as written ("mutual_knn:k=10"); parsed by the
  // metrics layer. Empty: all eight metrics at their defaults.
  std::vector<std::string> metrics;
  // Reduction: correlations between metric configurations over model pairs
  // (spearman | pearson | kendall, no duplicates), bootstrap resamples of the
  // models for confidence intervals (0: none), and the intervals' level.
  std::vector<std::string> correlations{"spearman"};
  int bootstrap = 1000;
  // Mantel test of every correlation between configurations: permutations of
  // the model labels (0: none), seeded from `seed`.
  int mantel = 999;
  double confidence = 0.95;
  Calibration calibration;
  // Where reduce runs the heavy metric steps (docs/gpu.md): cpu | cuda. Not
  // result-relevant (values agree within docs/gpu.md's tolerance).
  std::string reduce_device = "cpu";
  std::vector<ImageSet> image_sets;  // the listed sets, then every sweep's generated ones
  std::vector<SweepSpec> sweeps;
  std::vector<Model> models;

  // Result-relevant parameters shared by every item (batch, shard, dtype,
  // device, bad-image policy), canonical JSON.
  nlohmann::json embed_params() const;
  // Canonical JSON of one image set / model (what its features depend on); a
  // generated set's also holds "sweep": {name, family, base, level, index}.
  static nlohmann::json image_set_json(const ImageSet& s);
  static nlohmann::json model_json(const Model& m);
};

// Parses and validates; throws InputError listing every problem found.
Sweep load(const std::string& path);
Sweep parse(const std::string& yaml_text, const std::string& origin);

// Validates a source spec given as YAML/JSON (used for nested blend bases).
SourceSpec parse_source(const nlohmann::json& node, const std::string& where,
                        std::vector<std::string>& problems);

// A stable 64-bit hash (FNV-1a) of a canonical JSON document, as 16 hex digits.
std::string hash_json(const nlohmann::json& j);

}  // namespace prh::config
