// Phase 3 of `prh reduce` (reduce_parts.hpp), on rank 0: the tables derived
// from the alignment matrices, the calibration and the predictions. One
// function per table; derive() assembles them per set.

#include <cmath>
#include <map>

#include <spdlog/spdlog.h>

#include "prh/pipeline/label_space.hpp"
#include "prh/stats/bootstrap.hpp"
#include "prh/stats/calibration.hpp"
#include "prh/stats/correlation.hpp"
#include "prh/stats/cross_metric.hpp"
#include "prh/stats/mantel.hpp"
#include "prh/stats/permutation.hpp"
#include "prh/stats/predictions.hpp"
#include "prh/stats/sweep.hpp"
#include "prh/store/embedding_reader.hpp"
#include "reduce_parts.hpp"
#include "sweep_results.hpp"

namespace prh::pipeline::reduce_parts {
namespace {

// The stream of the sweep seed that the Mantel relabellings draw from
// (stats::stream_seed; "mantel" in ASCII).
constexpr std::uint64_t kMantelStream = 0x6d616e74656cULL;
// The stream of the sweep seed that the sets' mean-alignment resamples draw
// from ("means"; the same model draws for every set).
constexpr std::uint64_t kMeansStream = 0x6d65616e73ULL;

// What derive() reads once and every table uses.
struct Inputs {
  const config::Sweep& sweep;
  const Plan& plan;
  const store::ResultsLayout& L;
  const store::CalibrationLayout& cal;
  const std::vector<int>& spec_of;
  stats::BootstrapOptions bo;
  int M = 0;
  std::size_t K = 0;
  std::vector<std::vector<std::vector<double>>> matrices;  // [set][config][M*M]
};

// Each model's label space (from its config labels), as text into `d`.
std::vector<stats::LabelSpace> model_label_spaces(const Inputs& in, store::Derived& d) {
  std::vector<stats::LabelSpace> spaces;  // [M]
  for (const auto& name : in.L.models) {
    stats::LabelSpace ms;
    for (const auto& m : in.sweep.models)
      if (m.name == name) ms = model_label_space(m);
    spaces.push_back(ms);
    d.model_label_spaces.push_back(stats::label_space_text(ms));
  }
  return spaces;
}

// Set s's mean alignment of every model under every configuration ([K*M]).
void mean_alignment(const Inputs& in, std::size_t s, store::SetDerived& sd) {
  sd.mean_alignment.reserve(in.K * static_cast<std::size_t>(in.M));
  for (const auto& mat : in.matrices[s]) {
    const auto ma = stats::mean_alignment(mat, in.M);
    sd.mean_alignment.insert(sd.mean_alignment.end(), ma.begin(), ma.end());
  }
}

// Set s's mean score over the ordered model pairs per configuration and its
// percentile interval over model resamples, raw and calibrated (NaN where not
// calibrated): stats::sweep_curves at a single level, the estimator of the
// sweeps' curves; `bo` is the sweep's bootstrap on the kMeansStream seed.
void set_means(const Inputs& in, std::size_t s, const stats::BootstrapOptions& bo,
               store::SetDerived& sd) {
  stats::SweepInput x;
  x.levels = {0.0};
  x.M = in.M;
  x.scores = {in.matrices[s]};
  std::vector<std::vector<double>> calm(in.K);
  for (std::size_t c = 0; in.cal.enabled() && c < in.spec_of.size(); ++c)
    calm[static_cast<std::size_t>(in.spec_of[c])] = store::read_calibration(
        in.sweep.results, in.plan.sets[s].name, in.cal.configurations[c], "calibrated");
  x.calibrated = {std::move(calm)};
  auto c = stats::sweep_curves(x, bo);
  sd.mean = std::move(c.mean);
  sd.mean_ci_low = std::move(c.mean_low);
  sd.mean_ci_high = std::move(c.mean_high);
  sd.calibrated_mean = std::move(c.calibrated);
  sd.calibrated_mean_ci_low = std::move(c.calibrated_low);
  sd.calibrated_mean_ci_high = std::move(c.calibrated_high);
}

// Accuracy, confidence and agreement over the rows used; accuracy only where
// the model's label space matches the set's.
void predictions(const Inputs& in, const store::StoreReader& st, const Plan::Set& ps,
                 const std::vector<stats::LabelSpace>& model_spaces, store::SetDerived& sd) {
  const int M = in.M;
  std::vector<stats::ModelPredictions> preds(static_cast<std::size_t>(M));
  std::vector<std::int64_t> labels;
  if (st.has_set(ps.name)) {
    const auto ss = st.set(ps.name);
    std::vector<char> keep(static_cast<std::size_t>(ss.n), 1);
    for (auto r : ps.skipped_rows) keep[static_cast<std::size_t>(r)] = 0;
    for (std::int64_t r = 0; r < ss.n; ++r)
      if (keep[static_cast<std::size_t>(r)])
        labels.push_back(ss.labels[static_cast<std::size_t>(r)]);
    for (int m = 0; m < M; ++m) {
      if (!ps.present[static_cast<std::size_t>(m)]) continue;
      std::vector<std::int64_t> top1;
      std::vector<float> prob;
      st.read_predictions(ps.name, in.L.models[static_cast<std::size_t>(m)], top1, prob);
      if (top1.empty()) continue;
      auto& p = preds[static_cast<std::size_t>(m)];
      p.has_head = true;
      p.classes = in.plan.models[static_cast<std::size_t>(m)].classes;
      for (std::int64_t r = 0; r < ss.n; ++r)
        if (keep[static_cast<std::size_t>(r)]) {
          p.top1.push_back(top1[static_cast<std::size_t>(r)]);
          p.prob.push_back(prob[static_cast<std::size_t>(r)]);
        }
    }
  }
  const auto set_space = set_label_space(in.sweep, ps.name, labels);
  sd.label_space = stats::label_space_text(set_space);
  for (int m = 0; m < M; ++m) {
    const int match = label_match(model_spaces[static_cast<std::size_t>(m)], set_space);
    sd.labels_match.push_back(match);
    preds[static_cast<std::size_t>(m)].labels_match = match != 0;
  }
  const auto sum = stats::summarize_predictions(preds, labels);
  sd.n = sum.n;
  sd.labelled = sum.labelled;
  sd.accuracy = sum.accuracy;
  sd.mean_prob = sum.mean_prob;
  sd.mean_prob_wrong = sum.mean_prob_wrong;
  sd.agreement = sum.agreement;
  sd.agreement_both_wrong = sum.agreement_both_wrong;
  sd.both_wrong = sum.both_wrong;
}

// Benjamini-Hochberg q-values over the pairs of calibrated configuration c
// (i < j for a symmetric configuration, mirrored; both orientations i != j
// for an asymmetric one), as an [M*M] matrix.
std::vector<double> qvalues(const Inputs& in, const std::string& set, std::size_t c) {
  const int M = in.M;
  const auto pv =
      store::read_calibration(in.sweep.results, set, in.cal.configurations[c], "pvalue");
  const bool sym = in.L.configurations[static_cast<std::size_t>(in.spec_of[c])].symmetric;
  std::vector<double> p;
  std::vector<std::size_t> where;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j) {
      if (i == j || (sym && j < i)) continue;
      const auto x = static_cast<std::size_t>(i * M + j);
      p.push_back(pv[x]);
      where.push_back(x);
    }
  const auto q = stats::bh_qvalues(p);
  std::vector<double> qm(static_cast<std::size_t>(M) * M, std::nan(""));
  for (std::size_t k = 0; k < where.size(); ++k) {
    qm[where[k]] = q[k];
    if (sym) qm[(where[k] % M) * M + where[k] / M] = q[k];
  }
  return qm;
}

// The stored null scores of set s ([config][P*Kperm] in double; empty where a
// configuration is not calibrated), the q-values, and the share of each
// calibrated configuration's score variance across the pairs i < j that
// chance explains (docs/calibration.md).
std::vector<std::vector<double>> calibration_tables(const Inputs& in, std::size_t s,
                                                    store::SetDerived& sd) {
  std::vector<std::vector<double>> nd(in.K);
  if (!in.cal.enabled()) return nd;
  const auto& name = in.plan.sets[s].name;
  std::vector<std::vector<float>> nulls(in.K);
  for (std::size_t c = 0; c < in.spec_of.size(); ++c) {
    sd.qvalues.push_back({in.cal.configurations[c], qvalues(in, name, c)});
    nulls[static_cast<std::size_t>(in.spec_of[c])] =
        store::read_null_scores(in.sweep.results, name, in.cal.configurations[c]);
  }
  const std::int64_t P = store::CalibrationLayout::pairs(in.M);
  sd.chance_share.assign(in.K, std::nan(""));
  for (std::size_t k = 0; k < in.K; ++k) {
    if (nulls[k].empty()) continue;
    nd[k].assign(nulls[k].begin(), nulls[k].end());
    std::vector<double> obs(static_cast<std::size_t>(P));
    for (std::int64_t p = 0; p < P; ++p) {
      const auto [i, j] = store::CalibrationLayout::pair_at(in.M, p);
      obs[static_cast<std::size_t>(p)] = in.matrices[s][k][static_cast<std::size_t>(i * in.M + j)];
    }
    sd.chance_share[k] =
        stats::chance_share(obs, nd[k], static_cast<std::size_t>(in.cal.permutations));
  }
  return nd;
}

// Per permutation t, the coefficient between two configurations' null scores
// over the pairs i < j (the same permutation t for every pair), summarised
// against the observed coefficient (stats/cross_metric.hpp).
void correlation_nulls(const Inputs& in, const std::vector<std::vector<double>>& nd,
                       stats::Method method, store::CorrelationTable& t) {
  const std::size_t K = in.K;
  const auto Kp = static_cast<std::size_t>(in.cal.permutations);
  const double nan = std::nan("");
  t.null_mean.assign(K * K, nan);
  t.null_q95.assign(K * K, nan);
  t.null_p.assign(K * K, nan);
  for (std::size_t a = 0; a < K; ++a)
    for (std::size_t b = a; b < K; ++b) {
      if (nd[a].empty() || nd[b].empty()) continue;
      const auto sum = stats::correlation_null(t.r[a * K + b], nd[a], nd[b], Kp, method);
      for (auto [u, v] : {std::pair{a, b}, std::pair{b, a}}) {
        t.null_mean[u * K + v] = sum.mean;
        t.null_q95[u * K + v] = sum.q95;
        t.null_p[u * K + v] = sum.p;
      }
    }
}

// Set s's correlations between configurations under one method: the
// coefficients with their bootstrap intervals, Mantel p-values, the
// calibration null, and each configuration's mean alignment against accuracy.
store::CorrelationTable correlation_table(const Inputs& in, std::size_t s,
                                          const std::string& method_name,
                                          const std::vector<std::vector<double>>& nd,
                                          const store::SetDerived& sd) {
  const auto method = stats::parse_method(method_name);
  const auto& mats = in.matrices[s];
  const auto cm = stats::correlation_matrix(mats, in.M, method, in.bo);
  store::CorrelationTable t;
  t.method = method_name;
  t.r = cm.r;
  t.p = cm.p;
  t.n = cm.n;
  if (in.bo.resamples > 0) t.ci_low = cm.ci_low, t.ci_high = cm.ci_high, t.ci_p = cm.ci_p;
  // The same model relabellings for every set and method (seeded once).
  if (in.sweep.mantel > 0)
    t.mantel_p = stats::mantel_matrix(mats, in.M, method, in.sweep.mantel,
                                      stats::stream_seed(in.sweep.seed, kMantelStream));
  if (in.cal.enabled() && store::CalibrationLayout::pairs(in.M) > 0)
    correlation_nulls(in, nd, method, t);
  const auto M = static_cast<std::size_t>(in.M);
  for (std::size_t c = 0; c < in.K; ++c) {
    const std::vector<double> ma(
        sd.mean_alignment.begin() + static_cast<std::ptrdiff_t>(c * M),
        sd.mean_alignment.begin() + static_cast<std::ptrdiff_t>((c + 1) * M));
    const auto r = stats::correlate_finite(ma, sd.accuracy, method);
    t.acc_r.push_back(r.r);
    t.acc_p.push_back(r.p);
    t.acc_n.push_back(r.n);
  }
  return t;
}

// Set comparisons: every two sets the config lists, and every sweep level
// with its base (not two levels of a sweep: the sweep's curves say that, and
// the pairs would grow with the square of the levels).
std::vector<store::SetComparison> set_comparisons(const Inputs& in) {
  std::vector<store::SetComparison> out;
  const auto& sets = in.plan.sets;
  std::map<std::string, std::string> base_of;  // a sweep level's base
  for (const auto& is : in.sweep.image_sets)
    if (is.sweep) base_of[is.name] = is.sweep->base;
  for (std::size_t a = 0; a < sets.size(); ++a)
    for (std::size_t b = a + 1; b < sets.size(); ++b) {
      const auto ba = base_of.find(sets[a].name), bb = base_of.find(sets[b].name);
      const bool level_a = ba != base_of.end(), level_b = bb != base_of.end();
      if ((level_a && level_b) || (level_a && ba->second != sets[b].name) ||
          (level_b && bb->second != sets[a].name))
        continue;
      store::SetComparison c;
      c.set_a = sets[a].name;
      c.set_b = sets[b].name;
      for (const auto& method_name : in.sweep.correlations) {
        const auto cd = stats::compare_correlations(in.matrices[a], in.matrices[b], in.M,
                                                    stats::parse_method(method_name), in.bo);
        c.methods.push_back({method_name, cd.diff, cd.ci_low, cd.ci_high, cd.p});
      }
      out.push_back(std::move(c));
    }
  return out;
}

}  // namespace

store::Derived derive(const config::Sweep& sweep, const Plan& plan, const store::ResultsLayout& L,
                      const std::string& hash, const store::CalibrationLayout& cal,
                      const std::vector<int>& spec_of) {
  store::Derived d;
  for (const auto& c : L.configurations) d.configurations.push_back(c.name);
  d.methods = sweep.correlations;
  d.bootstrap = sweep.bootstrap;
  d.mantel = sweep.mantel;
  d.confidence = sweep.confidence;
  d.seed = sweep.seed;
  d.hash = hash;
  Inputs in{
      sweep, plan, L, cal, spec_of, {}, static_cast<int>(L.models.size()), L.configurations.size(),
      {}};
  in.bo.resamples = sweep.bootstrap;
  in.bo.confidence = sweep.confidence;
  in.bo.seed = sweep.seed;
  in.matrices.resize(plan.sets.size());
  // The sets' mean-alignment intervals draw from their own stream (as the
  // sweeps' curves do), so the other tables' resamples are unchanged.
  stats::BootstrapOptions mean_bo = in.bo;
  mean_bo.seed = stats::stream_seed(sweep.seed, kMeansStream);
  d.mean_seed = mean_bo.seed;
  store::StoreReader st(sweep.store);
  const auto model_spaces = model_label_spaces(in, d);
  for (std::size_t s = 0; s < plan.sets.size(); ++s) {
    const auto& ps = plan.sets[s];
    store::SetDerived sd;
    sd.set = ps.name;
    for (const auto& c : L.configurations)
      in.matrices[s].push_back(store::read_scores(sweep.results, ps.name, c.name));
    std::int64_t present = 0;
    for (auto x : ps.present) present += x;
    sd.model_pairs = present * (present - 1) / 2;
    mean_alignment(in, s, sd);
    predictions(in, st, ps, model_spaces, sd);
    const auto nd = calibration_tables(in, s, sd);
    set_means(in, s, mean_bo, sd);
    for (const auto& method_name : sweep.correlations)
      sd.correlations.push_back(correlation_table(in, s, method_name, nd, sd));
    d.sets.push_back(std::move(sd));
  }
  d.comparisons = set_comparisons(in);
  d.sweeps = derive_sweeps(sweep, d, in.matrices, in.M, cal);
  return d;
}

void log_summary(const store::Derived& d, const store::ResultsLayout& L) {
  for (const auto& s : d.sets) {
    std::string line;
    for (std::size_t c = 0; c < d.configurations.size(); ++c) {
      double sum = 0;
      int n = 0;
      for (std::size_t m = 0; m < L.models.size(); ++m) {
        const double v = s.mean_alignment[c * L.models.size() + m];
        if (std::isfinite(v)) sum += v, ++n;
      }
      line += fmt::format("{}{} {:.3f}", c ? ", " : "", d.configurations[c],
                          n ? sum / n : std::nan(""));
    }
    spdlog::info("reduce: image set '{}': mean alignment: {}", s.set, line);
  }
}

}  // namespace prh::pipeline::reduce_parts
