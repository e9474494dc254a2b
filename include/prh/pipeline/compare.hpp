#pragma once
// `prh compare`: score two models' features (HDF5 datasets) under metric
// configurations, without any sweep.

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prh/metrics/engine.hpp"
#include "prh/store/features.hpp"

namespace prh::pipeline {

struct CompareOptions {
  std::vector<std::string> metrics;  // specs; empty: the eight defaults
  metrics::PreprocessOptions pre;
  bool last_layer = false;  // compare the last layers only (no layer maximum)
  // Where the heavy metric steps run (docs/gpu.md): "cpu" or "cuda".
  std::string device = "cpu";
  // Makes the backend of `device`; called once the inputs are read, so that
  // device initialisation counts in CompareResult::seconds. Empty: the CPU
  // path (metrics::cpu_backend()).
  std::function<std::unique_ptr<metrics::Backend>()> make_backend;
};

struct CompareResult {
  metrics::Index n = 0;
  int layers_a = 0, layers_b = 0;
  std::vector<metrics::MetricSpec> specs;
  std::vector<metrics::LayerMax> scores;  // one per spec
  std::string device = "cpu";             // CompareOptions::device
  std::string backend = "cpu";            // metrics::Backend::name(), e.g. "cuda:0"
  // Compute time: from after the inputs are read to the scores, device
  // initialisation and host-device transfers included.
  double seconds = 0;
};

CompareResult compare(const store::DatasetRef& a, const store::DatasetRef& b,
                      const CompareOptions& opt);

// {"n": N, "layers_a", "layers_b", "device": "cpu" | "cuda", "seconds": compute time,
//  "results": [{"metric", "name", "params", "score" (null for NaN), "layers"}]}
nlohmann::json to_json(const CompareResult& r);

// A readable table.
void print_table(std::ostream& os, const CompareResult& r, const store::DatasetRef& a,
                 const store::DatasetRef& b);

}  // namespace prh::pipeline
