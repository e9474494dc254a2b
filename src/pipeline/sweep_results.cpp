#include "sweep_results.hpp"

#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "prh/core/error.hpp"
#include "prh/metrics/registry.hpp"
#include "prh/stats/permutation.hpp"
#include "prh/stats/sweep.hpp"

namespace prh::pipeline {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The stream of the sweep seed the sweeps' resamples draw from ("sweeps").
constexpr std::uint64_t kSweepStream = 0x737765657073ULL;

std::string parameter_of(const std::string& family) {
  if (family == "blend") return "alpha";
  if (family == "patch_shuffle") return "patch size";
  if (family == "phase_scramble") return "phase amount";
  if (family == "subsample") return "images";
  return "level";
}

std::string description_of(const config::SweepSpec& s, const config::Sweep& sweep) {
  if (s.family == "blend") {
    std::string noise = "noise";
    for (const auto& set : sweep.image_sets)
      if (set.sweep && set.sweep->sweep == s.name && set.source.spec.contains("distribution"))
        noise = set.source.spec["distribution"].get<std::string>() + " noise";
    return fmt::format("(1 - alpha) * {} + alpha * {}", s.base, noise);
  }
  if (s.family == "patch_shuffle")
    return fmt::format("{} cut into p x p patches, the patches permuted per image", s.base);
  if (s.family == "phase_scramble")
    return fmt::format("{}'s Fourier phase mixed with a random phase by the amount", s.base);
  if (s.family == "subsample")
    return fmt::format("the first N images of one seeded permutation of {} (nested levels)",
                       s.base);
  return s.family + " of " + s.base;
}

// The correlation breaking levels: per configuration pair with a calibration
// null (both configurations calibrated), the first level at which the
// observed coefficient no longer exceeds the coefficient over the pairs' null
// scores at alpha. Pairs without a null are not tested (test 0, NaN level):
// Mantel's model relabellings test pair-level association, which chance
// alone creates between two metrics of the same pairs (docs/sweeps.md).
void correlation_breaking(store::SweepDerived& x, std::size_t K) {
  const std::size_t L = x.levels.size();
  x.correlation_test.assign(K * K, 0);
  x.correlation_breaking_level.assign(K * K, kNaN);
  x.test_p.assign(L * K * K, kNaN);
  for (std::size_t a = 0; a < K; ++a)
    for (std::size_t b = 0; b < K; ++b) {
      if (a == b) continue;
      const std::size_t ab = a * K + b;
      std::vector<double> p(L, kNaN);
      bool null = false;
      for (std::size_t l = 0; l < L; ++l) {
        null = null || !std::isnan(x.null_mean[l * K * K + ab]);
        p[l] = x.null_p[l * K * K + ab];
      }
      // NaN means "not tested" only when every level lacks a null; a level
      // whose coefficient is undefined (constant scores) is broken.
      if (!null) continue;
      x.correlation_test[ab] = 1;
      for (std::size_t l = 0; l < L; ++l) x.test_p[l * K * K + ab] = p[l];
      x.correlation_breaking_level[ab] = stats::correlation_breaking_level(x.levels, p, x.alpha);
    }
}

// Per level: the set's correlation table of the first method, gathered.
void gather_correlations(store::SweepDerived& x, const store::Derived& d,
                         const std::vector<std::size_t>& idx, std::size_t K) {
  const std::size_t L = idx.size();
  x.method = d.methods.empty() ? "" : d.methods.front();
  for (auto* v :
       {&x.r, &x.r_ci_low, &x.r_ci_high, &x.mantel_p, &x.null_mean, &x.null_q95, &x.null_p})
    v->assign(L * K * K, kNaN);
  x.chance_share.assign(L * K, kNaN);
  for (std::size_t l = 0; l < L; ++l) {
    const auto& sd = d.sets[idx[l]];
    if (sd.chance_share.size() == K)
      std::copy(sd.chance_share.begin(), sd.chance_share.end(), x.chance_share.begin() + l * K);
    if (sd.correlations.empty()) continue;
    const auto& t = sd.correlations.front();
    auto copy = [&](const std::vector<double>& from, std::vector<double>& to) {
      if (from.size() == K * K) std::copy(from.begin(), from.end(), to.begin() + l * K * K);
    };
    copy(t.r, x.r);
    copy(t.ci_low, x.r_ci_low);
    copy(t.ci_high, x.r_ci_high);
    copy(t.mantel_p, x.mantel_p);
    copy(t.null_mean, x.null_mean);
    copy(t.null_q95, x.null_q95);
    copy(t.null_p, x.null_p);
  }
}

// Per level and configuration: the score unrelated neighbour sets give at the
// level's image count N. mutual_knn: two independent uniform k-subsets of the
// N - 1 other images share k^2/(N-1) on average, a score of k/(N-1). The
// other metrics have no closed form here (NaN).
void chance_levels(store::SweepDerived& x, const std::vector<std::string>& configurations) {
  const std::size_t L = x.images.size(), K = configurations.size();
  x.chance_level.assign(L * K, kNaN);
  for (std::size_t k = 0; k < K; ++k) {
    const auto spec = metrics::parse_metric(configurations[k]);
    if (spec.kind != metrics::MetricKind::MutualKnn) continue;
    for (std::size_t l = 0; l < L; ++l) {
      const std::int64_t n = x.images[l];
      if (n >= 2 && spec.k <= n - 1)
        x.chance_level[l * K + k] = static_cast<double>(spec.k) / static_cast<double>(n - 1);
    }
  }
}

void gather_predictions(store::SweepDerived& x, const store::Derived& d,
                        const std::vector<std::size_t>& idx, int M) {
  const auto m = static_cast<std::size_t>(M);
  x.accuracy.assign(idx.size() * m, kNaN);
  x.mean_prob.assign(idx.size() * m, kNaN);
  x.agreement.assign(idx.size(), kNaN);
  for (std::size_t l = 0; l < idx.size(); ++l) {
    const auto& sd = d.sets[idx[l]];
    if (sd.accuracy.size() == m)
      std::copy(sd.accuracy.begin(), sd.accuracy.end(), x.accuracy.begin() + l * m);
    if (sd.mean_prob.size() == m)
      std::copy(sd.mean_prob.begin(), sd.mean_prob.end(), x.mean_prob.begin() + l * m);
    if (sd.agreement.size() == m * m) {
      double sum = 0;
      int n = 0;
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = i + 1; j < m; ++j)
          if (std::isfinite(sd.agreement[i * m + j])) sum += sd.agreement[i * m + j], ++n;
      x.agreement[l] = n ? sum / n : kNaN;
    }
  }
}

// Sweep w's record: its name, family, levels and sets, and the settings its
// curves are computed with.
store::SweepDerived sweep_record(const config::Sweep& sweep, std::size_t w,
                                 const store::CalibrationLayout& cal) {
  const auto& spec = sweep.sweeps[w];
  store::SweepDerived x;
  x.name = spec.name;
  x.family = spec.family;
  x.base = spec.base;
  x.parameter = parameter_of(spec.family);
  x.description = description_of(spec, sweep);
  x.alpha = cal.enabled() ? cal.alpha : sweep.calibration.alpha;
  x.bootstrap = sweep.bootstrap;
  x.confidence = sweep.confidence;
  x.seed = stats::stream_seed(sweep.seed, kSweepStream + w);
  for (const auto& lv : spec.levels) x.levels.push_back(lv.get<double>());
  x.sets = spec.sets;
  x.relative_breaking = spec.relative_breaking;
  return x;
}

// The curves' input: per level, the score matrices, and the calibrated
// scores and q-values of the calibrated configurations (x.calibrated set
// when there are any).
stats::SweepInput sweep_input(const config::Sweep& sweep, const store::Derived& d,
                              const std::vector<std::vector<std::vector<double>>>& matrices, int M,
                              const std::vector<std::size_t>& idx, store::SweepDerived& x) {
  const std::size_t K = d.configurations.size();
  stats::SweepInput in;
  in.levels = x.levels;
  in.M = M;
  in.alpha = x.alpha;
  in.breaking_fraction = x.breaking_fraction;
  in.relative_fraction = x.relative_breaking;
  for (std::size_t l = 0; l < idx.size(); ++l) {
    const auto& sd = d.sets[idx[l]];
    in.scores.push_back(matrices[idx[l]]);
    std::vector<std::vector<double>> calm(K), qm(K);
    for (const auto& q : sd.qvalues) {
      const auto k = static_cast<std::size_t>(
          std::find(d.configurations.begin(), d.configurations.end(), q.config) -
          d.configurations.begin());
      PRH_ASSERT(k < K, "calibrated configuration {} is not a configuration", q.config);
      qm[k] = q.qvalue;
      calm[k] = store::read_calibration(sweep.results, sd.set, q.config, "calibrated");
      x.calibrated = true;
    }
    in.calibrated.push_back(std::move(calm));
    in.qvalues.push_back(std::move(qm));
  }
  return in;
}

// The curves into the sweep's record.
void take_curves(stats::SweepCurves&& c, store::SweepDerived& x) {
  x.mean = std::move(c.mean);
  x.mean_ci_low = std::move(c.mean_low);
  x.mean_ci_high = std::move(c.mean_high);
  x.calibrated_mean = std::move(c.calibrated);
  x.calibrated_ci_low = std::move(c.calibrated_low);
  x.calibrated_ci_high = std::move(c.calibrated_high);
  x.significant = std::move(c.significant);
  x.significant_ci_low = std::move(c.significant_low);
  x.significant_ci_high = std::move(c.significant_high);
  x.breaking_level = std::move(c.breaking);
  x.breaking_level_low = std::move(c.breaking_low);
  x.breaking_level_high = std::move(c.breaking_high);
  x.breaking_agreement = std::move(c.breaking_agreement);
  x.relative = std::move(c.relative);
  x.relative_ci_low = std::move(c.relative_low);
  x.relative_ci_high = std::move(c.relative_high);
  x.relative_breaking_level = std::move(c.relative_breaking);
  x.relative_breaking_level_low = std::move(c.relative_breaking_low);
  x.relative_breaking_level_high = std::move(c.relative_breaking_high);
  x.relative_breaking_agreement = std::move(c.relative_breaking_agreement);
}

}  // namespace

std::vector<store::SweepDerived> derive_sweeps(
    const config::Sweep& sweep, const store::Derived& d,
    const std::vector<std::vector<std::vector<double>>>& matrices, int M,
    const store::CalibrationLayout& cal) {
  std::map<std::string, std::size_t> set_index;
  for (std::size_t s = 0; s < d.sets.size(); ++s) set_index[d.sets[s].set] = s;
  const std::size_t K = d.configurations.size();
  std::vector<store::SweepDerived> out;
  for (std::size_t w = 0; w < sweep.sweeps.size(); ++w) {
    store::SweepDerived x = sweep_record(sweep, w, cal);
    std::vector<std::size_t> idx;  // the levels' sets in d.sets
    for (const auto& s : x.sets) {
      const auto it = set_index.find(s);
      PRH_ASSERT(it != set_index.end(), "sweep {}: image set {} has no tables", x.name, s);
      idx.push_back(it->second);
    }
    const auto in = sweep_input(sweep, d, matrices, M, idx, x);
    stats::BootstrapOptions bo;
    bo.resamples = sweep.bootstrap;
    bo.confidence = sweep.confidence;
    bo.seed = x.seed;
    take_curves(stats::sweep_curves(in, bo), x);
    for (auto i : idx) x.images.push_back(d.sets[i].n);
    chance_levels(x, d.configurations);
    gather_correlations(x, d, idx, K);
    correlation_breaking(x, K);
    gather_predictions(x, d, idx, M);
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace prh::pipeline
