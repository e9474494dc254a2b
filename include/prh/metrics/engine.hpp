#pragma once
// The metric engine: scores of metric configurations for one pair of models,
// each model given as a list of layers (prepared Representations), maximised
// over all layer pairs with the argmax recorded.

#include <functional>
#include <string>
#include <vector>

#include "prh/metrics/preprocess.hpp"
#include "prh/metrics/registry.hpp"
#include "prh/metrics/representation.hpp"

namespace prh::metrics {

// Best score over layer pairs and where it was found. score is NaN (and the
// layers -1) when no layer pair gave a number.
struct LayerMax {
  double score = 0;
  int layer_a = -1;
  int layer_b = -1;
};

// Preprocesses raw layers and prepares them for `specs` (layer order kept).
// `what` names the model in error messages (e.g. "a.h5:/feats"); the heavy
// steps run on `backend` (backend.hpp).
std::vector<Representation> make_representations(std::vector<MatrixF> layers,
                                                 const PreprocessOptions& pre,
                                                 const std::vector<MetricSpec>& specs,
                                                 const std::string& what,
                                                 const Backend& backend = cpu_backend());

// Scores every configuration on one pair of representations (one layer each),
// sharing the cross product and the RBF pass between configurations.
std::vector<double> score_layer_pair(const Representation& a, const Representation& b,
                                     const std::vector<MetricSpec>& specs,
                                     const Backend& backend = cpu_backend());

// Called for every NaN score: (configuration, layer of A, layer of B, reason).
using NanHandler = std::function<void(const MetricSpec&, int, int, const std::string&)>;

// One configuration's score of every (layer of A, layer of B): row-major
// [rows = layers of A, cols = layers of B]; NaN where undefined.
struct LayerScores {
  int rows = 0, cols = 0;
  std::vector<double> v;
  double at(int l, int m) const {
    return v[static_cast<std::size_t>(l) * static_cast<std::size_t>(cols) +
             static_cast<std::size_t>(m)];
  }
};

// For each configuration, the score of every layer pair, in the order
// compare_models visits them (on_nan for each NaN). Validates every
// configuration first.
std::vector<LayerScores> compare_layers(const std::vector<Representation>& a,
                                        const std::vector<Representation>& b,
                                        const std::vector<MetricSpec>& specs,
                                        const NanHandler& on_nan = {},
                                        const Backend& backend = cpu_backend());

// The maximum of `s` over the layer pairs rows x cols (indices into its rows
// and columns, visited in the given order; the running maximum starts at
// -infinity, a later equal score does not replace it, NaN is skipped); the
// layers are those indices. NaN and -1 when no pair gives a number.
LayerMax layer_max(const LayerScores& s, const std::vector<int>& rows,
                   const std::vector<int>& cols);

// For each configuration, the maximum over all (layer of A, layer of B): the
// layer_max of compare_layers over every pair. Validates every configuration
// first.
std::vector<LayerMax> compare_models(const std::vector<Representation>& a,
                                     const std::vector<Representation>& b,
                                     const std::vector<MetricSpec>& specs,
                                     const NanHandler& on_nan = {},
                                     const Backend& backend = cpu_backend());

}  // namespace prh::metrics
