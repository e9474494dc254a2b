#pragma once
// Reads a results file (results.h5, docs/results.md) back into memory, as a
// plain struct: what `prh export` and tests consume. Serial, read-only.
//
// Matrices are row-major in flat vectors, over all models in /models order
// (M) and configurations in /configurations order (K) unless a group says
// otherwise (correlation `configurations`). Optional parts that the file does
// not have (a set's correlation, predictions, a CI, a comparison) are absent:
// std::nullopt or empty vectors. JSON-valued attributes are kept as their
// text.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace prh::store {

// /alignment/S/C: one configuration of one image set.
struct AlignmentResult {
  std::string name;    // canonical configuration name, e.g. "mutual_knn@k=10"
  std::string metric;  // e.g. "mutual_knn"
  std::string params;  // JSON text ("{}" when absent)
  bool symmetric = true;
  std::string preprocess;  // JSON text ("" when absent)
  bool last_layer_only = false;
  std::vector<double> scores;        // [M*M], scores[i*M + j] = metric(i as A, j as B)
  std::vector<std::int32_t> layers;  // [M*M*2], (layer of i, layer of j) at (i*M + j)*2
  std::vector<std::uint8_t> done;    // [M(M+1)/2], pairs i <= j row-major; empty: not stored

  // Whether pair (i, j) (either order) has been written: true without `done`.
  bool pair_done(std::size_t i, std::size_t j, std::size_t models) const;
};

// /correlation/S/{method}*: correlations between configurations.
struct CorrelationMethod {
  std::string name;                     // spearman | pearson | kendall
  std::vector<double> r, p;             // [K*K]
  std::vector<std::int64_t> n;          // [K*K]
  std::vector<double> ci_low, ci_high;  // [K*K]; empty when not stored (bootstrap = 0)
  std::vector<double> mantel_p;         // [K*K]; empty when not stored (mantel = 0)
  // The correlation null (calibration): [K*K] each; empty when not stored.
  std::vector<double> null_mean, null_q95, null_p;
  // accuracy_{method}*: [K] each; empty when not stored.
  std::vector<double> accuracy_r, accuracy_p;
  std::vector<std::int64_t> accuracy_n;
};

struct CorrelationResult {
  std::vector<std::string> configurations;  // matrix order (K)
  std::vector<std::string> methods;         // as in the `methods` attribute
  std::int64_t pairs = 0, bootstrap = 0;
  double confidence = 0;
  std::uint64_t seed = 0;
  std::string resampling, vector;
  std::vector<double> mean_alignment;  // [K*M]; empty when not stored
  // mean, mean_ci_low, mean_ci_high and calibrated_*: [K] each, the mean
  // score over the model pairs and its interval over model resamples (drawn
  // with mean_seed); empty when not stored (files of reduce before 2026-12-06).
  std::vector<double> mean, mean_ci_low, mean_ci_high;
  std::vector<double> calibrated_mean, calibrated_mean_ci_low, calibrated_mean_ci_high;
  std::uint64_t mean_seed = 0;
  std::vector<CorrelationMethod> by_method;  // one per method found

  const CorrelationMethod* find(const std::string& method) const;
};

// /predictions/S.
struct PredictionsResult {
  std::int64_t labelled = 0, n = 0;
  std::vector<double> accuracy, mean_prob, mean_prob_wrong;  // [M]
  std::vector<double> agreement;                             // [M*M]
  std::vector<std::int64_t> both_wrong;                      // [M*M]
  std::vector<double> agreement_both_wrong;                  // [M*M]
};

// /calibration/S/C: the permutation calibration of one configuration.
struct CalibrationResult {
  std::string name;  // configuration
  std::int64_t permutations = 0;
  double alpha = 0;
  std::vector<double> pvalue, qvalue, threshold, calibrated, null_mean, null_sd;  // [M*M]
};

// /alignment/S (plus the set's optional correlation and predictions groups).
struct SetResult {
  std::string name;
  std::int64_t n = 0, skipped = 0;
  std::vector<std::uint8_t> models_present;     // [M]; empty when not stored
  std::vector<AlignmentResult> configurations;  // those present, /configurations order
  std::optional<CorrelationResult> correlation;
  std::optional<PredictionsResult> predictions;
  std::vector<CalibrationResult> calibration;  // /configurations order; empty: none

  const AlignmentResult* find(const std::string& configuration) const;
};

// /comparison/S1/S2: paired bootstrap of the correlation difference.
struct ComparisonMethod {
  std::string name;
  std::vector<double> diff, ci_low, ci_high, pvalue;  // [K*K]; CI/p empty when not stored
};

struct ComparisonResult {
  std::string set_a, set_b;                 // S1, S2
  std::vector<std::string> configurations;  // matrix order (K)
  std::vector<std::string> methods;
  std::int64_t bootstrap = 0;
  double confidence = 0;
  std::uint64_t seed = 0;
  std::string test;
  std::vector<ComparisonMethod> by_method;
};

// /sweeps/NAME: a falsification sweep's summary (docs/sweeps.md); arrays
// row-major, L levels, K = /configurations, M = /models.
struct SweepResult {
  std::string name, family, base, parameter, method, description;
  double alpha = 0, breaking_fraction = 0.5, confidence = 0;
  std::vector<double> levels;     // [L]
  std::vector<std::string> sets;  // [L]
  std::vector<double> mean, mean_ci_low, mean_ci_high, calibrated_mean, significant_fraction,
      significant_ci_low, significant_ci_high;  // [L*K]
  std::vector<double> breaking_level, breaking_level_low, breaking_level_high,
      breaking_agreement;  // [K]
  double relative_breaking = 0.5;
  std::vector<double> relative, relative_ci_low, relative_ci_high, chance_share;  // [L*K]
  std::vector<double> relative_breaking_level, relative_breaking_level_low,
      relative_breaking_level_high, relative_breaking_agreement;  // [K]
  std::vector<std::int64_t> images;                               // [L]
  std::vector<double> r, test_p;                                  // [L*K*K]
  // the gathered {method}_ci_low, _ci_high, _mantel_p, _null_mean, _null_q95, _null_p
  std::vector<double> r_ci_low, r_ci_high, mantel_p, null_mean, null_q95, null_p;  // [L*K*K]
  std::vector<double> calibrated_ci_low, calibrated_ci_high;                       // [L*K]
  std::vector<std::int64_t> correlation_test;                                      // [K*K]
  std::vector<double> correlation_breaking_level;                                  // [K*K]
  std::vector<double> accuracy, agreement;                                         // [L*M], [L]
  std::vector<double> mean_prob;                                                   // [L*M]
};

struct ResultsData {
  std::string path;
  // Root attributes.
  std::string format, prh_version, config_hash, config_file, store;
  std::string config, identity;  // JSON text ("" when absent)
  bool complete = false;
  // /models and /configurations.
  std::vector<std::string> models;
  std::vector<std::int64_t> layer_counts, classes;  // [M]; empty when not stored
  std::vector<std::string> configurations;
  // Image sets in config order (as far as the file tells it; else name order).
  std::vector<SetResult> sets;
  std::vector<ComparisonResult> comparisons;  // S1 before S2
  std::vector<SweepResult> sweeps;            // name order

  const SetResult* find_set(const std::string& name) const;
};

// Reads the whole file (format "prh-results-1"). InputError naming the file (and the object) when
// it is missing, not a prh results file, or malformed.
ResultsData read_results(const std::string& path);

}  // namespace prh::store
