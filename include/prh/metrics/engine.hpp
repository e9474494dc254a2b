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

// For each configuration, the maximum over all (layer of A, layer of B); the
// running maximum starts at -infinity. Validates every configuration first.
std::vector<LayerMax> compare_models(const std::vector<Representation>& a,
                                     const std::vector<Representation>& b,
                                     const std::vector<MetricSpec>& specs,
                                     const NanHandler& on_nan = {},
                                     const Backend& backend = cpu_backend());

}  // namespace prh::metrics
