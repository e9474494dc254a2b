#pragma once
// Metric configurations: a metric plus its parameters, parsed from specs such
// as "mutual_knn:k=10", "cka:kernel=rbf,sigma=0.5" (or the canonical names
// "mutual_knn@k=10"), validated with messages that name what is wrong.

#include <string>
#include <utility>
#include <vector>

#include "prh/metrics/matrix.hpp"

namespace prh::metrics {

enum class MetricKind {
  MutualKnn,
  CycleKnn,
  LcsKnn,
  EditDistanceKnn,
  Cka,
  UnbiasedCka,
  Cknna,
  Svcca
};
enum class Kernel { Linear, Rbf };

inline constexpr int kDefaultK = 10;
inline constexpr int kDefaultCcaDim = 10;
inline constexpr double kDefaultSigma = 1.0;

struct MetricSpec {
  MetricKind kind = MetricKind::MutualKnn;
  int k = kDefaultK;               // kNN metrics and cknna
  int cca_dim = kDefaultCcaDim;    // svcca
  Kernel kernel = Kernel::Linear;  // cka, unbiased_cka
  double sigma = kDefaultSigma;    // rbf kernel width

  // "mutual_knn", "cka", ...
  std::string metric_name() const;
  // Canonical configuration name, e.g. "mutual_knn@k=10", "cka@kernel=rbf,sigma=0.5".
  std::string name() const;
  // The parameters that define this configuration, in canonical order; values
  // as text (numbers formatted so they parse back exactly).
  std::vector<std::pair<std::string, std::string>> params() const;
  // Uses neighbour lists (the four kNN metrics and cknna).
  bool uses_knn() const;
  // metric(A, B) == metric(B, A): every metric but cycle_knn and cknna (whose
  // masked kernels are not symmetric, metrics.md: the two orientations differ).
  bool symmetric() const { return kind != MetricKind::CycleKnn && kind != MetricKind::Cknna; }
  bool operator==(const MetricSpec& o) const { return name() == o.name(); }
};

// All metric names, in the order of metrics.md.
const std::vector<std::string>& metric_names();

// Parses "name", "name:key=value,key=value" or "name@key=value,...".
// Throws InputError naming an unknown metric or parameter, or a bad value.
MetricSpec parse_metric(const std::string& spec);

// The eight metrics with their default parameters.
std::vector<MetricSpec> default_metrics();

// A sweep config's `metrics` list, parsed: each configuration with a label
// naming where it came from ("metrics[3] 'cknna:k=10'", or "default
// mutual_knn@k=10" for the eight defaults of an empty list). Unparsable
// entries and duplicates (the same canonical configuration twice) are
// appended to `problems` and left out.
struct ListedMetric {
  std::string label;
  MetricSpec spec;
};
std::vector<ListedMetric> parse_metric_list(const std::vector<std::string>& texts,
                                            std::vector<std::string>& problems);

// Checks that the configuration can be computed on N images with feature
// dimensions da and db; throws InputError naming the configuration.
void validate(const MetricSpec& spec, Index n, Index da, Index db);

}  // namespace prh::metrics
