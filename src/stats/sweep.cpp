#include "prh/stats/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "pair_mean.hpp"
#include "prh/core/error.hpp"
#include "prh/stats/nan.hpp"

namespace prh::stats {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Ordered pairs (u, v), u != v, as u * M + v: every one, or those of the
// resample positions a != b whose drawn models differ.
std::vector<std::size_t> ordered_pairs(int M) {
  std::vector<std::size_t> idx;
  for (int u = 0; u < M; ++u)
    for (int v = 0; v < M; ++v)
      if (u != v) idx.push_back(static_cast<std::size_t>(u) * M + v);
  return idx;
}

std::vector<std::size_t> ordered_pairs(int M, const std::vector<int>& drawn) {
  std::vector<std::size_t> idx;
  for (std::size_t a = 0; a < drawn.size(); ++a)
    for (std::size_t b = 0; b < drawn.size(); ++b)
      if (drawn[a] != drawn[b])
        idx.push_back(static_cast<std::size_t>(drawn[a]) * M + static_cast<std::size_t>(drawn[b]));
  return idx;
}

using detail::mean_at;

double fraction_at(const std::vector<double>& q, const std::vector<std::size_t>& idx,
                   double alpha) {
  std::size_t n = 0, hit = 0;
  for (auto x : idx)
    if (std::isfinite(q[x])) {
      ++n;
      if (q[x] < alpha) ++hit;
    }
  return n ? static_cast<double>(hit) / static_cast<double>(n) : kNaN;
}

// Percentile interval of the finite values (bootstrap.hpp).
void interval(std::vector<double> v, int resamples, double confidence, double& low, double& high) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  percentile_interval(v, resamples, confidence, low, high);
}

// The same for discrete values that may be +inf: order statistics, no
// interpolation (the lower one below, the upper one above).
void discrete_interval(std::vector<double> v, int resamples, double confidence, double& low,
                       double& high) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty() || 2 * v.size() < static_cast<std::size_t>(resamples)) {
    low = high = kNaN;
    return;
  }
  std::sort(v.begin(), v.end());
  const double n1 = static_cast<double>(v.size() - 1);
  low = v[static_cast<std::size_t>(std::floor(n1 * (1 - confidence) / 2))];
  high = v[static_cast<std::size_t>(std::ceil(n1 * (1 + confidence) / 2))];
}

bool has(const std::vector<std::vector<std::vector<double>>>& m, std::size_t l, std::size_t k) {
  return l < m.size() && k < m[l].size() && !m[l][k].empty();
}

void check_input(const SweepInput& in) {
  const std::size_t L = in.levels.size();
  PRH_CHECK_INPUT(in.M >= 0, "number of models must not be negative, got {}", in.M);
  PRH_CHECK_INPUT(in.scores.size() == L, "sweep: {} levels but score matrices for {}", L,
                  in.scores.size());
  PRH_CHECK_INPUT(in.alpha > 0 && in.alpha < 1, "sweep: alpha {} outside (0, 1)", in.alpha);
  PRH_CHECK_INPUT(in.relative_fraction > 0 && in.relative_fraction < 1,
                  "sweep: relative breaking fraction {} outside (0, 1)", in.relative_fraction);
  const std::size_t K = L ? in.scores[0].size() : 0;
  const auto mm = static_cast<std::size_t>(in.M) * static_cast<std::size_t>(in.M);
  for (const auto* set : {&in.scores, &in.calibrated, &in.qvalues}) {
    PRH_CHECK_INPUT(set->empty() || set->size() == L, "sweep: matrices for {} of {} levels",
                    set->size(), L);
    for (const auto& level : *set) {
      PRH_CHECK_INPUT(level.size() == K, "sweep: {} configurations at one level, {} at another",
                      level.size(), K);
      for (const auto& m : level)
        PRH_CHECK_INPUT(m.empty() || m.size() == mm, "sweep: a matrix of {} entries for {} models",
                        m.size(), in.M);
    }
  }
  for (std::size_t l = 0; l < L; ++l)
    for (std::size_t k = 0; k < K; ++k)
      PRH_CHECK_INPUT(!in.scores[l][k].empty(), "sweep: level {} configuration {} has no scores", l,
                      k);
}

// The statistics of one set of pairs: [L*K] each, and the breaking levels [K].
struct PairStats {
  std::vector<double> mean, cal, sig, brk, rel, rbrk;
};

// The breaking levels of s (from its significant fractions and calibrated
// means), and the relative means they need.
void breaking_levels(const SweepInput& in, std::size_t L, std::size_t K, PairStats& s) {
  for (std::size_t k = 0; k < K; ++k) {
    std::vector<char> broken(L), known(L);
    for (std::size_t l = 0; l < L; ++l) {
      const double f = s.sig[l * K + k];
      known[l] = std::isfinite(f);
      broken[l] = known[l] && f < in.breaking_fraction;
    }
    s.brk[k] = first_breaking_level(in.levels, broken, known);
    // Effect size: the mean calibrated score relative to the first level's.
    const double base = L ? s.cal[k] : kNaN;
    if (!(std::isfinite(base) && base > 0)) continue;
    for (std::size_t l = 0; l < L; ++l) {
      const double r = s.cal[l * K + k] / base;
      s.rel[l * K + k] = r;
      known[l] = std::isfinite(r);
      broken[l] = known[l] && r < in.relative_fraction;
    }
    s.rbrk[k] = first_breaking_level(in.levels, broken, known);
  }
}

PairStats pair_stats(const SweepInput& in, std::size_t L, std::size_t K,
                     const std::vector<std::size_t>& idx) {
  PairStats s;
  s.mean.assign(L * K, kNaN);
  s.cal.assign(L * K, kNaN);
  s.sig.assign(L * K, kNaN);
  s.rel.assign(L * K, kNaN);
  s.brk.assign(K, kNaN);
  s.rbrk.assign(K, kNaN);
  for (std::size_t l = 0; l < L; ++l)
    for (std::size_t k = 0; k < K; ++k) {
      s.mean[l * K + k] = mean_at(in.scores[l][k], idx);
      if (has(in.calibrated, l, k)) s.cal[l * K + k] = mean_at(in.calibrated[l][k], idx);
      if (has(in.qvalues, l, k)) s.sig[l * K + k] = fraction_at(in.qvalues[l][k], idx, in.alpha);
    }
  breaking_levels(in, L, K, s);
  return s;
}

// Every resample's statistics, per entry, in resample order.
struct Resampled {
  std::vector<std::vector<double>> mean, cal, sig, rel, brk, rbrk;

  Resampled(std::size_t LK, std::size_t K) : mean(LK), cal(LK), sig(LK), rel(LK), brk(K), rbrk(K) {}

  void add(const PairStats& r) {
    for (std::size_t x = 0; x < mean.size(); ++x) {
      mean[x].push_back(r.mean[x]);
      cal[x].push_back(r.cal[x]);
      sig[x].push_back(r.sig[x]);
      rel[x].push_back(r.rel[x]);
    }
    for (std::size_t k = 0; k < brk.size(); ++k) {
      brk[k].push_back(r.brk[k]);
      rbrk[k].push_back(r.rbrk[k]);
    }
  }
};

// The percentile intervals of the [L*K] curves (of those known on all pairs).
void curve_intervals(const PairStats& all, const Resampled& rs, const BootstrapOptions& opt,
                     SweepCurves& out) {
  for (std::size_t x = 0; x < all.mean.size(); ++x) {
    interval(rs.mean[x], opt.resamples, opt.confidence, out.mean_low[x], out.mean_high[x]);
    if (std::isfinite(all.cal[x]))
      interval(rs.cal[x], opt.resamples, opt.confidence, out.calibrated_low[x],
               out.calibrated_high[x]);
    if (std::isfinite(all.sig[x]))
      interval(rs.sig[x], opt.resamples, opt.confidence, out.significant_low[x],
               out.significant_high[x]);
    if (std::isfinite(all.rel[x]))
      interval(rs.rel[x], opt.resamples, opt.confidence, out.relative_low[x], out.relative_high[x]);
  }
}

// A breaking level's interval and agreement over the resamples s, for each
// configuration whose level on all pairs (`full`) is known.
void level_interval(const std::vector<double>& full, const std::vector<std::vector<double>>& s,
                    const BootstrapOptions& opt, std::vector<double>& low,
                    std::vector<double>& high, std::vector<double>& agreement) {
  for (std::size_t k = 0; k < full.size(); ++k) {
    if (std::isnan(full[k])) continue;
    discrete_interval(s[k], opt.resamples, opt.confidence, low[k], high[k]);
    std::size_t same = 0;
    for (double b : s[k]) same += b == full[k];
    agreement[k] = static_cast<double>(same) / static_cast<double>(opt.resamples);
  }
}

// Every output array of L levels and K configurations, NaN.
void init_curves(std::size_t L, std::size_t K, SweepCurves& out) {
  out.L = static_cast<int>(L);
  out.K = static_cast<int>(K);
  for (auto* v : {&out.mean, &out.mean_low, &out.mean_high, &out.calibrated, &out.calibrated_low,
                  &out.calibrated_high, &out.significant, &out.significant_low,
                  &out.significant_high, &out.relative, &out.relative_low, &out.relative_high})
    v->assign(L * K, kNaN);
  for (auto* v : {&out.breaking, &out.breaking_low, &out.breaking_high, &out.breaking_agreement,
                  &out.relative_breaking, &out.relative_breaking_low, &out.relative_breaking_high,
                  &out.relative_breaking_agreement})
    v->assign(K, kNaN);
}

}  // namespace

double mean_offdiagonal(const std::vector<double>& s, int M) {
  PRH_CHECK_INPUT(s.size() == static_cast<std::size_t>(M) * static_cast<std::size_t>(M),
                  "a matrix of {} entries for {} models", s.size(), M);
  return mean_at(s, ordered_pairs(M));
}

double significant_fraction(const std::vector<double>& q, int M, double alpha) {
  PRH_CHECK_INPUT(q.size() == static_cast<std::size_t>(M) * static_cast<std::size_t>(M),
                  "a matrix of {} entries for {} models", q.size(), M);
  return fraction_at(q, ordered_pairs(M), alpha);
}

double first_breaking_level(const std::vector<double>& levels, const std::vector<char>& broken,
                            const std::vector<char>& known) {
  PRH_CHECK_INPUT(broken.size() == levels.size() && known.size() == levels.size(),
                  "breaking level: {} levels, {} verdicts, {} known flags", levels.size(),
                  broken.size(), known.size());
  for (std::size_t l = 0; l < levels.size(); ++l) {
    if (!known[l]) return kNaN;
    if (broken[l]) return levels[l];
  }
  return kInf;
}

double correlation_breaking_level(const std::vector<double>& levels,
                                  const std::vector<double>& null_p, double alpha) {
  PRH_CHECK_INPUT(null_p.size() == levels.size(), "correlation breaking: {} levels, {} p-values",
                  levels.size(), null_p.size());
  PRH_CHECK_INPUT(alpha > 0 && alpha < 1, "correlation breaking: alpha {} outside (0, 1)", alpha);
  if (std::all_of(null_p.begin(), null_p.end(), [](double p) { return std::isnan(p); }))
    return kNaN;
  std::vector<char> broken(levels.size()), known(levels.size(), 1);
  for (std::size_t l = 0; l < levels.size(); ++l)
    broken[l] = !(std::isfinite(null_p[l]) && null_p[l] < alpha);
  return first_breaking_level(levels, broken, known);
}

SweepCurves sweep_curves(const SweepInput& in, const BootstrapOptions& opt) {
  check_input(in);
  PRH_CHECK_INPUT(opt.resamples >= 0, "bootstrap resamples must not be negative, got {}",
                  opt.resamples);
  PRH_CHECK_INPUT(opt.confidence > 0 && opt.confidence < 1, "confidence {} outside (0, 1)",
                  opt.confidence);
  const std::size_t L = in.levels.size();
  const std::size_t K = L ? in.scores[0].size() : 0;
  const int M = in.M;
  SweepCurves out;
  init_curves(L, K, out);

  const PairStats all = pair_stats(in, L, K, ordered_pairs(M));
  out.mean = all.mean;
  out.calibrated = all.cal;
  out.significant = all.sig;
  out.breaking = all.brk;
  out.relative = all.rel;
  out.relative_breaking = all.rbrk;
  if (opt.resamples == 0 || M == 0) return out;

  std::mt19937_64 rng(opt.seed);
  Resampled rs(L * K, K);
  for (int it = 0; it < opt.resamples; ++it)
    rs.add(pair_stats(in, L, K, ordered_pairs(M, resample_models(rng, M))));
  curve_intervals(all, rs, opt, out);
  level_interval(all.brk, rs.brk, opt, out.breaking_low, out.breaking_high, out.breaking_agreement);
  level_interval(all.rbrk, rs.rbrk, opt, out.relative_breaking_low, out.relative_breaking_high,
                 out.relative_breaking_agreement);
  return out;
}

}  // namespace prh::stats
