#pragma once
// The layer axis of the results file (docs/results.md, "/layers and
// /layer_profile"), written when the sweep's `layer_profile` is on:
//
// - /layers/S/C: float64 [M, M, Lmax, Lmax], entry [i, j, l, m] = the score of
//   layer l of model i (as A) against layer m of model j (as B); NaN for
//   layers a model does not have (padding to Lmax), for absent models and
//   for pairs not yet scored. Written by every rank with the pair's scores,
//   before its done flag (AlignmentWriter's file: one durability point).
// - /layer_profile: the relative-depth summary, derived by rank 0 from
//   /layers (stats/layer_profile.hpp).
//
// One dense dataset per (set, configuration): the default (21 models, at
// most 6 layers) takes 21*21*36*8 bytes = 127 KB each; the OOD study's 17
// ViTs of up to 32 blocks 2.4 MB each.

#include <cstdint>
#include <string>
#include <vector>

#include "prh/metrics/engine.hpp"
#include "prh/store/results_store.hpp"

namespace prh::store {

struct LayersLayout {
  bool enabled = false;
  std::vector<std::int64_t>
      layer_counts;    // [M] every layer of each model in the store (0: not there)
  int max_layers = 0;  // Lmax
};

// Rank 0 alone, after prepare_results_file and before any rank opens a
// writer: creates /layers and each missing /layers/S/C (filled with NaN).
// A file with /layers whose layer counts differ is an InternalError (the
// identity check already refuses another store or model list).
void prepare_layers(const std::string& path, const ResultsLayout& L, const LayersLayout& ll);

// Every rank: writes the layer-by-layer matrices of a pair through the
// AlignmentWriter's file, before that writer marks the pair done.
class LayerMatrixWriter {
 public:
  LayerMatrixWriter(AlignmentWriter& writer, const ResultsLayout& L, const LayersLayout& ll);
  // [i, j, :, :] = ij (rows: i's layers, cols: j's) and, when i != j,
  // [j, i, :, :] = ji (rows: j's layers, cols: i's).
  void write(int set, int config, int i, int j, const metrics::LayerScores& ij,
             const metrics::LayerScores& ji);

 private:
  UnitFile& file_;
  std::vector<std::vector<std::size_t>> slots_;  // [set][config]
};

// The /layers attributes of a results file: enabled false (and nothing else
// set) when the file has no /layers (layer_profile off).
LayersLayout read_layers_layout(const std::string& path);

// /layers/S/C as [M*M*Lmax*Lmax] row-major, and Lmax.
std::vector<double> read_layer_matrices(const std::string& path, const std::string& set,
                                        const std::string& config, int& max_layers);

// The relative-depth summary (docs/results.md): G grid points, K
// configurations; per set [G*K] row-major (grid point first).
struct LayerProfile {
  std::vector<double> depths;              // [G]
  std::vector<std::int64_t> layer_counts;  // [M]
  std::vector<std::string> configurations;
  int bootstrap = 0;
  double confidence = 0.95;
  std::uint64_t seed = 0;
  std::string reference;  // the set `relative` divides by (the config's first)
  struct Set {
    std::string name;
    std::vector<double> mean, mean_ci_low, mean_ci_high;  // [G*K]
    // [G*K]: mean over the reference set's mean at the same depth, with the
    // interval of the same model resamples.
    std::vector<double> relative, relative_ci_low, relative_ci_high;
    std::vector<std::int64_t> pairs;  // [G*K] finite ordered pairs
    // [K] (stats/layer_contrast.hpp): mean at the first grid point minus
    // mean at the last, and that minus the reference set's; each with the
    // percentile interval and the bootstrap p of the same model resamples.
    std::vector<double> early_late, early_late_ci_low, early_late_ci_high, early_late_p;
    std::vector<double> early_late_change, early_late_change_ci_low, early_late_change_ci_high,
        early_late_change_p;
  };
  std::vector<Set> sets;
};

// Rank 0: replaces /layer_profile (before write_derived marks the file
// complete).
void write_layer_profile(const std::string& path, const LayerProfile& p);

}  // namespace prh::store
