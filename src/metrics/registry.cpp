#include "prh/metrics/registry.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "prh/core/error.hpp"

namespace prh::metrics {

namespace {

struct Entry {
  MetricKind kind;
  const char* name;
  std::vector<std::string> keys;  // accepted parameters
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> e = {
      {MetricKind::MutualKnn, "mutual_knn", {"k"}},
      {MetricKind::CycleKnn, "cycle_knn", {"k"}},
      {MetricKind::LcsKnn, "lcs_knn", {"k"}},
      {MetricKind::EditDistanceKnn, "edit_distance_knn", {"k"}},
      {MetricKind::Cka, "cka", {"kernel", "sigma"}},
      {MetricKind::UnbiasedCka, "unbiased_cka", {"kernel", "sigma"}},
      {MetricKind::Cknna, "cknna", {"k"}},
      {MetricKind::Svcca, "svcca", {"cca_dim"}},
  };
  return e;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

int parse_int(const std::string& spec, const std::string& key, const std::string& value) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value.c_str(), &end, 10);
  PRH_CHECK_INPUT(
      !value.empty() && end && *end == '\0' && errno == 0 && v >= -(1L << 30) && v <= (1L << 30),
      "metric '{}': {} must be an integer, got '{}'", spec, key, value);
  return static_cast<int>(v);
}

double parse_double(const std::string& spec, const std::string& key, const std::string& value) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  PRH_CHECK_INPUT(!value.empty() && end && *end == '\0' && std::isfinite(v),
                  "metric '{}': {} must be a number, got '{}'", spec, key, value);
  return v;
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& e : entries()) v.emplace_back(e.name);
    return v;
  }();
  return names;
}

std::string MetricSpec::metric_name() const {
  for (const auto& e : entries())
    if (e.kind == kind) return e.name;
  return "?";
}

std::vector<std::pair<std::string, std::string>> MetricSpec::params() const {
  switch (kind) {
    case MetricKind::MutualKnn:
    case MetricKind::CycleKnn:
    case MetricKind::LcsKnn:
    case MetricKind::EditDistanceKnn:
    case MetricKind::Cknna:
      return {{"k", std::to_string(k)}};
    case MetricKind::Cka:
    case MetricKind::UnbiasedCka:
      if (kernel == Kernel::Linear) return {{"kernel", "linear"}};
      return {{"kernel", "rbf"}, {"sigma", fmt::format("{}", sigma)}};
    case MetricKind::Svcca:
      return {{"cca_dim", std::to_string(cca_dim)}};
  }
  return {};
}

std::string MetricSpec::name() const {
  std::string out = metric_name();
  char sep = '@';
  for (const auto& [key, value] : params()) {
    out += sep + key + "=" + value;
    sep = ',';
  }
  return out;
}

bool MetricSpec::uses_knn() const {
  return kind == MetricKind::MutualKnn || kind == MetricKind::CycleKnn ||
         kind == MetricKind::LcsKnn || kind == MetricKind::EditDistanceKnn ||
         kind == MetricKind::Cknna;
}

MetricSpec parse_metric(const std::string& spec) {
  const auto cut = spec.find_first_of(":@");
  const std::string name = spec.substr(0, cut);
  const auto it = std::find_if(entries().begin(), entries().end(),
                               [&](const Entry& e) { return name == e.name; });
  PRH_CHECK_INPUT(it != entries().end(), "unknown metric '{}' in '{}' (known: {})", name, spec,
                  join(metric_names()));
  MetricSpec out;
  out.kind = it->kind;
  bool sigma_given = false;
  if (cut != std::string::npos) {
    const std::string rest = spec.substr(cut + 1);
    PRH_CHECK_INPUT(!rest.empty(), "metric '{}': no parameters after '{}'", spec, spec[cut]);
    std::size_t pos = 0;
    std::vector<std::string> seen;
    while (pos <= rest.size()) {
      const auto comma = rest.find(',', pos);
      const std::string item =
          rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      const auto eq = item.find('=');
      PRH_CHECK_INPUT(eq != std::string::npos && eq > 0,
                      "metric '{}': parameter '{}' is not of the form key=value", spec, item);
      const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
      PRH_CHECK_INPUT(std::find(it->keys.begin(), it->keys.end(), key) != it->keys.end(),
                      "metric '{}': unknown parameter '{}' for {} (allowed: {})", spec, key, name,
                      join(it->keys));
      PRH_CHECK_INPUT(std::find(seen.begin(), seen.end(), key) == seen.end(),
                      "metric '{}': parameter '{}' given twice", spec, key);
      seen.push_back(key);
      if (key == "k") {
        out.k = parse_int(spec, key, value);
        PRH_CHECK_INPUT(out.k >= 1, "metric '{}': k must be >= 1, got {}", spec, out.k);
      } else if (key == "cca_dim") {
        out.cca_dim = parse_int(spec, key, value);
        PRH_CHECK_INPUT(out.cca_dim >= 1, "metric '{}': cca_dim must be >= 1, got {}", spec,
                        out.cca_dim);
      } else if (key == "kernel") {
        PRH_CHECK_INPUT(value == "linear" || value == "rbf" || value == "ip",
                        "metric '{}': kernel must be 'linear' or 'rbf', got '{}'", spec, value);
        out.kernel = value == "rbf" ? Kernel::Rbf : Kernel::Linear;
      } else if (key == "sigma") {
        out.sigma = parse_double(spec, key, value);
        sigma_given = true;
        PRH_CHECK_INPUT(out.sigma > 0, "metric '{}': sigma must be > 0, got {}", spec, value);
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  PRH_CHECK_INPUT(!sigma_given || out.kernel == Kernel::Rbf,
                  "metric '{}': sigma applies to kernel=rbf only", spec);
  if (out.kind == MetricKind::Cknna)
    PRH_CHECK_INPUT(out.k >= 2, "metric '{}': cknna needs k >= 2, got k = {}", spec, out.k);
  return out;
}

std::vector<MetricSpec> default_metrics() {
  std::vector<MetricSpec> out;
  for (const auto& e : entries()) {
    MetricSpec s;
    s.kind = e.kind;
    out.push_back(s);
  }
  return out;
}

std::vector<ListedMetric> parse_metric_list(const std::vector<std::string>& texts,
                                            std::vector<std::string>& problems) {
  std::vector<ListedMetric> out;
  if (texts.empty()) {
    for (const auto& s : default_metrics()) out.push_back({"default " + s.name(), s});
    return out;
  }
  std::map<std::string, std::size_t> first;  // canonical name -> index in texts
  for (std::size_t i = 0; i < texts.size(); ++i) {
    MetricSpec spec;
    try {
      spec = parse_metric(texts[i]);
    } catch (const InputError& e) {
      problems.push_back(fmt::format("metrics[{}]: {}", i, e.what()));
      continue;
    }
    const std::string name = spec.name();
    const auto [it, fresh] = first.emplace(name, i);
    if (!fresh) {
      problems.push_back(
          fmt::format("metrics[{}]: '{}' is the same configuration ({}) as metrics[{}] '{}'", i,
                      texts[i], name, it->second, texts[it->second]));
      continue;
    }
    out.push_back({fmt::format("metrics[{}] '{}'", i, texts[i]), spec});
  }
  return out;
}

void validate(const MetricSpec& spec, Index n, Index da, Index db) {
  const std::string nm = spec.name();
  if (spec.uses_knn()) {
    PRH_CHECK_INPUT(spec.k >= 1 && spec.k <= n - 1,
                    "{}: k must satisfy 1 <= k <= N-1 = {} for N = {} images, got k = {}", nm,
                    n - 1, n, spec.k);
  }
  if (spec.kind == MetricKind::Cknna) {
    PRH_CHECK_INPUT(spec.k >= 2, "{}: cknna needs k >= 2", nm);
  }
  if (spec.kind == MetricKind::UnbiasedCka || spec.kind == MetricKind::Cknna) {
    PRH_CHECK_INPUT(n >= 4, "{}: the unbiased HSIC estimator needs N >= 4 images, got N = {}", nm,
                    n);
  }
  if (spec.kind == MetricKind::Svcca) {
    const Index limit = std::min({n - 1, da, db});
    PRH_CHECK_INPUT(spec.cca_dim <= limit,
                    "{}: cca_dim must be <= min(N-1, D_A, D_B) = {} (N = {}, D_A = {}, D_B = {})",
                    nm, limit, n, da, db);
  }
  PRH_CHECK_INPUT(n >= 2, "{}: needs at least 2 images, got N = {}", nm, n);
}

}  // namespace prh::metrics
