#include "prh/pipeline/compare.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ostream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "prh/core/error.hpp"

namespace prh::pipeline {

namespace {

std::vector<metrics::MatrixF> load(const store::DatasetRef& ref, bool last_layer) {
  auto layers = store::read_features(ref);
  if (last_layer && layers.size() > 1) {
    auto last = std::move(layers.back());
    layers.clear();
    layers.push_back(std::move(last));
  }
  return layers;
}

}  // namespace

CompareResult compare(const store::DatasetRef& a, const store::DatasetRef& b,
                      const CompareOptions& opt) {
  CompareResult r;
  for (const auto& s : opt.metrics) r.specs.push_back(metrics::parse_metric(s));
  if (r.specs.empty()) r.specs = metrics::default_metrics();

  auto la = load(a, opt.last_layer);
  auto lb = load(b, opt.last_layer);
  const auto n = la[0].rows();
  PRH_CHECK_INPUT(lb[0].rows() == n,
                  "N mismatch: {} has {} rows but {} has {} (row i must be the same image in both)",
                  a.text(), n, b.text(), lb[0].rows());
  for (const auto& s : r.specs) {
    metrics::validate(s, n, la[0].cols(), lb[0].cols());
  }
  r.n = n;
  r.layers_a = static_cast<int>(la.size());
  r.layers_b = static_cast<int>(lb.size());
  spdlog::info("{}: N = {}, {} layer(s) of D = {}; {}: {} layer(s) of D = {}", a.text(), n,
               r.layers_a, la[0].cols(), b.text(), r.layers_b, lb[0].cols());
  // The compute time starts here: the inputs are read.
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<metrics::Backend> owned;
  if (opt.make_backend) owned = opt.make_backend();
  const metrics::Backend& backend = owned ? *owned : metrics::cpu_backend();
  r.device = opt.device;
  r.backend = backend.name();
  auto ra = metrics::make_representations(std::move(la), opt.pre, r.specs, a.text(), backend);
  auto rb = metrics::make_representations(std::move(lb), opt.pre, r.specs, b.text(), backend);
  r.scores = metrics::compare_models(
      ra, rb, r.specs,
      [&](const metrics::MetricSpec& s, int l, int m, const std::string& why) {
        spdlog::warn("{} is NaN for {} (layer {}) vs {} (layer {}): {}", s.name(), a.text(), l,
                     b.text(), m, why);
      },
      backend);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("scored on {} in {:.3f} s (after reading the inputs)", r.backend, r.seconds);
  return r;
}

nlohmann::json to_json(const CompareResult& r) {
  nlohmann::json results = nlohmann::json::array();
  for (std::size_t i = 0; i < r.specs.size(); ++i) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [key, value] : r.specs[i].params()) {
      if (key == "k" || key == "cca_dim")
        params[key] = std::stol(value);
      else if (key == "sigma")
        params[key] = std::stod(value);
      else
        params[key] = value;
    }
    const auto& s = r.scores[i];
    nlohmann::json score = std::isnan(s.score) ? nlohmann::json(nullptr) : nlohmann::json(s.score);
    results.push_back({{"metric", r.specs[i].metric_name()},
                       {"name", r.specs[i].name()},
                       {"params", params},
                       {"score", score},
                       {"layers", {s.layer_a, s.layer_b}}});
  }
  return {{"n", r.n},           {"layers_a", r.layers_a}, {"layers_b", r.layers_b},
          {"device", r.device}, {"seconds", r.seconds},   {"results", results}};
}

void print_table(std::ostream& os, const CompareResult& r, const store::DatasetRef& a,
                 const store::DatasetRef& b) {
  os << fmt::format("A = {} ({} layer{}), B = {} ({} layer{}), N = {}\n", a.text(), r.layers_a,
                    r.layers_a == 1 ? "" : "s", b.text(), r.layers_b, r.layers_b == 1 ? "" : "s",
                    r.n);
  os << fmt::format("{:<32} {:>10}  {}\n", "configuration", "score", "best layers (A, B)");
  for (std::size_t i = 0; i < r.specs.size(); ++i) {
    const auto& s = r.scores[i];
    const std::string score = std::isnan(s.score) ? "NaN" : fmt::format("{:.6f}", s.score);
    os << fmt::format("{:<32} {:>10}  ({}, {})\n", r.specs[i].name(), score, s.layer_a, s.layer_b);
  }
}

}  // namespace prh::pipeline
