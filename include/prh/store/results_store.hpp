#pragma once
// Writing the results file (results.h5, docs/results.md) and the reduction's
// preparation cache, with the same rules as the embedding store: created
// by rank 0 with every dataset allocated early, then opened by every rank
// with parallel HDF5 (MPI_Comm below: the MPI-IO file driver needs the
// communicator; the store makes no MPI call itself), raw writes independent,
// each unit's done flag written only after its data. A killed reduce re-run
// redoes only units without their flag.
//
// - AlignmentWriter: per image set and configuration the M x M scores and
//   best layer pairs; a unit is (set, configuration, model pair i <= j).
// - PrepCache (results.h5 + ".prep.h5"): per image set, model and layer the
//   preprocessed features, neighbour lists, Gram matrix of the centred
//   features and SVCCA bases, computed once by one rank and read by every
//   rank that scores a pair with that model. A cache: remade whenever what it
//   depends on changes; removed once the results are complete.
// - write_derived: the tables computed from the alignment matrices and the
//   predictions (correlations, predictions, set comparisons), serially.

#include <mpi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "prh/metrics/representation.hpp"

namespace prh::store {

class UnitFile;  // internal (src/store/unit_file.hpp)

struct ConfigurationInfo {
  std::string name;    // canonical, e.g. "mutual_knn@k=10"
  std::string metric;  // "mutual_knn"
  std::vector<std::pair<std::string, std::string>> params;
  bool symmetric = true;
};

struct SetInfo {
  std::string name;
  std::int64_t n = 0;                        // rows used
  std::int64_t skipped = 0;                  // rows excluded
  std::vector<std::uint8_t> models_present;  // [M]
};

struct ResultsLayout {
  std::string config_file;
  std::string config_text;  // the config file as written
  nlohmann::json config;    // the whole sweep config
  nlohmann::json identity;  // what the alignment depends on (refused if changed)
  std::string config_hash;  // of `identity`
  std::string store_path;
  std::vector<std::string> models;
  std::vector<std::int64_t> layer_counts, classes;  // [M]
  std::vector<ConfigurationInfo> configurations;    // [K]
  nlohmann::json preprocess;
  bool last_layer_only = false;
  std::vector<SetInfo> sets;
  // Where this reduce runs the heavy metric steps ("cpu" or "cuda"): not
  // result-relevant; recorded in the `device` attribute (docs/results.md).
  std::string device = "cpu";

  // Unordered pairs i <= j in row-major order; P = M (M + 1) / 2.
  std::int64_t pairs() const;
  std::int64_t pair_index(int i, int j) const;
  std::pair<int, int> pair_at(std::int64_t p) const;
};

// After every rank closed its writers of a file (results or preparation
// cache), rank 0 alone: merges the journals of a serial-HDF5 build into it
// (nothing to do with parallel HDF5).
void finish_unit_writes(const std::string& path);
// The units finished but still in the journals of `path` (0 with parallel
// HDF5, or when none is waiting): for `prh status`.
std::int64_t journal_units(const std::string& path);
// The same units by flag dataset ("/calibration/S/done", "done" of the
// preparation cache): {dataset: unit indices}; empty when none is waiting.
std::map<std::string, std::set<std::uint64_t>> journal_flags(const std::string& path);

// Rank 0 alone (serial HDF5), before any rank opens a writer: merges the
// journals a serial-HDF5 run left (finish_unit_writes), then creates the
// results file, or opens an existing one and checks its identity (an
// InputError listing what changed when it was made from another config);
// new configurations are added. Marks the file incomplete.
void prepare_results_file(const std::string& path, const ResultsLayout& layout);

// Every rank, once the file is prepared: opens it and reads every done flag.
// With parallel HDF5 (the MPI-IO driver needs the communicator `comm`),
// scores are written with independent raw-data writes; with serial HDF5, the
// file is opened read-only and each pair goes to this process's journal,
// which finish_unit_writes merges (docs/store.md, "Serial HDF5").
class AlignmentWriter {
 public:
  AlignmentWriter(const std::string& path, const ResultsLayout& layout, MPI_Comm comm);
  ~AlignmentWriter();
  bool done(int set, int config, std::int64_t pair) const;
  // Scores S[i][j] (layers la, lb) and S[j][i] (layers of j, of i).
  void write(int set, int config, int i, int j, double s_ij, int li, int lj, double s_ji, int lj2,
             int li2);
  // The pair's done flag, after its scores (DoneFlags::mark).
  void mark_done(int set, int config, std::int64_t pair);
  // The file it writes through, for the pair's other data written before
  // mark_done (LayerMatrixWriter, results_layers.hpp).
  UnitFile& unit_file();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Where the preparation cache of a results file lives: RESULTS.prep.h5.
std::string prep_cache_path(const std::string& results);

// One prepared unit: (image set, model, layer).
struct PrepUnit {
  int set = 0, model = 0, layer = 0;  // layer: index in the store
  std::int64_t n = 0, dim = 0;
};

// Rank 0 alone, before any rank opens the cache: keeps the cache at `path`
// if its identity (units, requirements, `identity`) is this one, else makes
// it anew (under a temporary name, renamed: a cut-off creation leaves no
// file at `path`). A file at `path` that is not a prh preparation cache (no
// format attribute) is never remade: InputError.
void prepare_prep_cache(const std::string& path, const std::vector<PrepUnit>& units,
                        const metrics::Requirements& req, const nlohmann::json& identity);
// Deletes the cache at `path` once the results are complete, if it is one.
void remove_prep_cache(const std::string& path);

// Every rank, once prepared: the cache opened with parallel HDF5, or
// read-only with a journal (serial HDF5; as AlignmentWriter).
class PrepCache {
 public:
  PrepCache(const std::string& path, const std::vector<PrepUnit>& units,
            const metrics::Requirements& req, MPI_Comm comm);
  ~PrepCache();
  bool done(std::size_t unit) const;
  // Writes everything `req` asks for, then the unit's done flag.
  void write(std::size_t unit, const metrics::Representation& rep);
  // Rebuilds the representation (moments from the stored Gram matrix).
  metrics::Representation read(std::size_t unit) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- calibration (docs/calibration.md, docs/results.md) -----------------------
// /calibration/S/C/{pvalue, threshold, calibrated, null_mean, null_sd, qvalue}
// [M, M] float64 (NaN where not computed), /calibration/S/C/null_scores
// [P, K] float64 (P = M (M - 1) / 2 pairs i < j in row-major order, the null
// scores of orientation (i, j); float64 so that the stored p, tau and
// calibrated score recompute exactly from them), null_scores_reverse [P, K]
// (asymmetric configurations: orientation (j, i)), /calibration/S/done [P]: a
// unit is (set, pair i < j) covering every calibrated configuration.
struct CalibrationLayout {
  std::vector<std::string> configurations;  // calibrated ones (names)
  std::vector<std::string> skipped;         // configurations without a null
  int permutations = 0;
  double alpha = 0.05;
  std::uint64_t seed = 0;
  bool enabled() const { return permutations > 0; }
  // Pairs i < j: P = M (M - 1) / 2, row-major.
  static std::int64_t pairs(int M) { return static_cast<std::int64_t>(M) * (M - 1) / 2; }
  static std::int64_t pair_index(int M, int i, int j);
  static std::pair<int, int> pair_at(int M, std::int64_t p);
};

// Rank 0 alone, after prepare_results_file: makes /calibration match `c`.
// A set's group made with other settings (permutations, alpha, seed,
// configurations, rows, models present), or whose null scores are not
// float64 (a file of an older prh), is removed and made anew (NaN data, no
// done flag); calibration off (permutations = 0) removes /calibration.
void prepare_calibration(const std::string& path, const ResultsLayout& L,
                         const CalibrationLayout& c);

// One pair and orientation's calibration (stats::Calibration's numbers).
struct CalibrationCell {
  double pvalue, threshold, calibrated, null_mean, null_sd;
};

// Every rank, once prepared: the calibration datasets opened with parallel
// HDF5, every done flag read.
class CalibrationWriter {
 public:
  CalibrationWriter(const std::string& path, const ResultsLayout& layout,
                    const CalibrationLayout& c, MPI_Comm comm);
  ~CalibrationWriter();
  bool done(int set, std::int64_t pair) const;
  // Entry [a][b] of the [M, M] datasets of calibrated configuration `config`
  // (an index into CalibrationLayout::configurations).
  void write(int set, int config, int a, int b, const CalibrationCell& cell);
  // Row `pair` of null_scores (K values), or of null_scores_reverse (the
  // orientation (j, i) of an asymmetric configuration).
  void write_null(int set, int config, std::int64_t pair, const std::vector<double>& null,
                  bool reverse = false);
  void mark_done(int set, std::int64_t pair);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Serial readers of the calibration: a [M, M] dataset, and null_scores [P*K]
// rounded to float (what the correlation null is computed from).
std::vector<double> read_calibration(const std::string& path, const std::string& set,
                                     const std::string& config, const std::string& name);
std::vector<float> read_null_scores(const std::string& path, const std::string& set,
                                    const std::string& config);

// --- progress, read-only (prh status) ------------------------------------------
// What a reduce of layout `L` and calibration `c` would find in `path`, read
// serially without writing anything; units waiting in a serial-HDF5 build's
// journals count as done (the next run merges them first).
struct ResultsProgress {
  bool exists = false;           // the file exists
  bool readable = false;         // a prh results file
  bool same_identity = false;    // made from L's identity (else reduce refuses it)
  std::string identity_changes;  // what differs when not (first few, "; ")
  bool complete = false;
  std::string derived_hash;        // "" when absent
  std::string config;              // the `config` attribute (JSON text; "" when absent)
  std::int64_t journal_units = 0;  // waiting in the journals, counted below
  struct Set {
    bool stored = false;                       // /alignment/S exists
    std::vector<std::uint8_t> score_done;      // [M(M+1)/2]: every configuration done
    std::vector<std::uint8_t> calibrate_done;  // [M(M-1)/2]; empty when calibration is off
    bool calibration_remade = false;           // its group would be made anew (flags 0)
  };
  std::vector<Set> sets;  // L.sets order
};
ResultsProgress read_results_progress(const std::string& path, const ResultsLayout& L,
                                      const CalibrationLayout& c);

// The preparation cache of `results` as prepare_prep_cache would find it:
// its done flags (journal units counted) when it was made for exactly these
// units and requirements, else all 0 (it would be remade).
struct PrepProgress {
  bool exists = false, matches = false;
  std::vector<std::uint8_t> done;  // [units]
  std::int64_t journal_units = 0;
};
PrepProgress read_prep_progress(const std::string& results, const std::vector<PrepUnit>& units,
                                const metrics::Requirements& req, const nlohmann::json& identity);

// Serial readers used after the parallel phase.
std::vector<double> read_scores(const std::string& path, const std::string& set,
                                const std::string& config);
// (complete, derived_hash) of an existing results file; (false, "") if absent.
std::pair<bool, std::string> results_state(const std::string& path);

// Tables computed from the alignment and the predictions (docs/results.md).
struct CorrelationTable {
  std::string method;
  std::vector<double> r, p, ci_low, ci_high;  // [K*K]; CIs empty when bootstrap = 0
  std::vector<double> ci_p;                   // [K*K] the interval's dual p; empty with the CIs
  std::vector<double> mantel_p;               // [K*K]; empty when mantel = 0
  // The correlation null (calibration on): over the permutations, the
  // coefficient between the configurations' null scores; NaN for
  // configurations not calibrated. [K*K]; empty when calibration is off.
  std::vector<double> null_mean, null_q95, null_p;
  std::vector<std::int64_t> n;
  std::vector<double> acc_r, acc_p;  // [K]
  std::vector<std::int64_t> acc_n;
};
struct CalibrationQ {
  std::string config;
  std::vector<double> qvalue;  // [M*M]
};
struct SetDerived {
  std::string set;
  std::vector<CalibrationQ> qvalues;  // calibrated configurations
  std::int64_t model_pairs = 0;
  std::vector<double> mean_alignment;  // [K*M]
  std::vector<CorrelationTable> correlations;
  // [K]: the share of each configuration's score variance across the pairs
  // i < j that chance explains (stats::chance_share); NaN where not
  // calibrated; empty when calibration is off.
  std::vector<double> chance_share;
  // [K]: the mean score over the ordered model pairs u != v (finite entries)
  // and its percentile interval over model resamples (stats::sweep_curves at
  // one level; NaN intervals when bootstrap = 0); the same for the
  // calibrated scores, NaN where the configuration is not calibrated.
  std::vector<double> mean, mean_ci_low, mean_ci_high;
  std::vector<double> calibrated_mean, calibrated_mean_ci_low, calibrated_mean_ci_high;
  // predictions
  std::int64_t n = 0, labelled = 0;
  std::vector<double> accuracy, mean_prob, mean_prob_wrong;  // [M]
  std::vector<double> agreement, agreement_both_wrong;       // [M*M]
  std::vector<std::int64_t> both_wrong;                      // [M*M]
  // The set's label space (stats::label_space_text; "" not known) and per
  // model 1 / 0 / -1: matches / does not (accuracy NaN) / model's not known.
  std::string label_space;
  std::vector<std::int64_t> labels_match;  // [M]
};
struct ComparisonTable {
  std::string method;
  std::vector<double> diff, ci_low, ci_high, p;  // [K*K]
};
struct SetComparison {
  std::string set_a, set_b;
  std::vector<ComparisonTable> methods;
};
// A falsification sweep's summary (docs/sweeps.md): L levels, K
// configurations, M models; arrays row-major, level first.
struct SweepDerived {
  std::string name, family, base, parameter, description;
  std::vector<double> levels;      // [L]
  std::vector<std::string> sets;   // [L]
  double alpha = 0.05;             // of the q < alpha fraction and the tests
  double breaking_fraction = 0.5;  // alignment breaks below this fraction
  int bootstrap = 0;               // resamples of the models
  double confidence = 0.95;
  std::uint64_t seed = 0;   // of the resamples
  bool calibrated = false;  // some configuration has q-values
  std::string method;       // of the correlations gathered
  // [L*K]
  std::vector<double> mean, mean_ci_low, mean_ci_high;
  std::vector<double> calibrated_mean, calibrated_ci_low, calibrated_ci_high;
  std::vector<double> significant, significant_ci_low, significant_ci_high;
  // [K]
  std::vector<double> breaking_level, breaking_level_low, breaking_level_high, breaking_agreement;
  // Effect size: [L*K] mean calibrated score relative to the first level's
  // with its interval; [K] the first level at which it falls below
  // relative_breaking (stats::SweepCurves), its interval and agreement.
  double relative_breaking = 0.5;
  std::vector<double> relative, relative_ci_low, relative_ci_high;
  std::vector<double> relative_breaking_level, relative_breaking_level_low,
      relative_breaking_level_high, relative_breaking_agreement;
  std::vector<std::int64_t> images;  // [L]: images (rows) per level
  std::vector<double> chance_share;  // [L*K]: the level's /correlation/S/chance_share
  // [L*K]: the score of configuration k expected from unrelated neighbour
  // sets at the level's image count N: k/(N-1) for mutual_knn; NaN for the
  // configurations without a closed form here (every other metric).
  std::vector<double> chance_level;
  // [L*K*K]: the level's correlation table, and the p of the test used.
  std::vector<double> r, r_ci_low, r_ci_high, mantel_p, null_mean, null_q95, null_p, test_p;
  // [K*K]: 1 = the calibration null (one-sided), 0 = not tested (a
  // configuration without a calibration null; Mantel is never used here);
  // the first level at which the test no longer says the correlation
  // exceeds its null (+inf: never; NaN: not tested).
  std::vector<std::int64_t> correlation_test;
  std::vector<double> correlation_breaking_level;
  // Predictions: [L*M] accuracy and mean top-1 probability per model, [L]
  // mean agreement over model pairs with heads.
  std::vector<double> accuracy, mean_prob, agreement;
};
struct Derived {
  std::vector<std::string> configurations;
  std::vector<std::string> methods;
  int bootstrap = 0;
  int mantel = 0;  // Mantel permutations (0: none)
  double confidence = 0.95;
  std::uint64_t seed = 0;
  std::uint64_t mean_seed = 0;  // of the sets' mean-alignment resamples
  std::string hash;             // of everything the tables depend on
  std::vector<SetDerived> sets;
  std::vector<SetComparison> comparisons;
  std::vector<SweepDerived> sweeps;
  std::vector<std::string> model_label_spaces;  // [M] stats::label_space_text, "" not known
};
// Replaces /correlation, /predictions, /comparison and /sweeps, writes the q-values
// into /calibration/S/C/qvalue, then marks the file complete.
void write_derived(const std::string& path, const Derived& d);

}  // namespace prh::store
