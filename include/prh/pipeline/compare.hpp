#pragma once
// `prh compare`: score two models' features (HDF5 datasets) under metric
// configurations, without any sweep.

#include <iosfwd>
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
};

struct CompareResult {
  metrics::Index n = 0;
  int layers_a = 0, layers_b = 0;
  std::vector<metrics::MetricSpec> specs;
  std::vector<metrics::LayerMax> scores;  // one per spec
};

CompareResult compare(const store::DatasetRef& a, const store::DatasetRef& b,
                      const CompareOptions& opt);

// {"n": N, "results": [{"metric", "params", "score" (null for NaN), "layers"}]}
nlohmann::json to_json(const CompareResult& r);

// A readable table.
void print_table(std::ostream& os, const CompareResult& r, const store::DatasetRef& a,
                 const store::DatasetRef& b);

}  // namespace prh::pipeline
