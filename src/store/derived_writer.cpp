// The derived tables (docs/results.md): /correlation, /predictions,
// /comparison and /sweeps, written by rank 0 at the end of reduce, with the
// calibration's q-values; `complete` is set last.
#include "prh/store/results_store.hpp"

#include "h5.hpp"
#include "results_file.hpp"
#include "results_schema.hpp"

namespace prh::store {

namespace {

using json = nlohmann::json;
using detail::open_or_create_group;
using detail::open_rw;

// A sweep's attributes: its parameters and what its numbers are.
void write_sweep_attrs(h5::Id g, const SweepDerived& x) {
  const auto attr = [](std::string_view name) { return schema::attr(schema::kSweep, name); };
  h5::write_attr(g, attr("family"), x.family);
  h5::write_attr(g, attr("base"), x.base);
  h5::write_attr(g, attr("parameter"), x.parameter);
  h5::write_attr(g, attr("description"), x.description);
  h5::write_attr(g, attr("alpha"), x.alpha);
  h5::write_attr(g, attr("breaking_fraction"), x.breaking_fraction);
  h5::write_attr(g, attr("relative_breaking"), x.relative_breaking);
  h5::write_attr(g, attr("significant_fraction_is"),
                 std::string("power curve: share of pairs with q < alpha at `images` images per "
                             "level; it grows with the images, it is not an effect size"));
  h5::write_attr(g, attr("correlation_test_codes"),
                 std::string("1: calibration null (one-sided p of the coefficient over the pairs' "
                             "null scores); 0: not tested (no calibration null)"));
  h5::write_attr(g, attr("bootstrap"), static_cast<std::int64_t>(x.bootstrap));
  h5::write_attr(g, attr("confidence"), x.confidence);
  h5::write_attr(g, attr("seed"), static_cast<std::int64_t>(x.seed));
  h5::write_attr(g, attr("resampling"), std::string("models"));
  h5::write_attr(g, attr("calibrated"), static_cast<std::int64_t>(x.calibrated));
  h5::write_attr(g, attr("method"), x.method);
}

// Datasets of one shape: (schema name, values) each.
using Doubles = std::initializer_list<std::pair<std::string, const std::vector<double>*>>;
void write_all(h5::Id g, const std::vector<h5::hsize>& shape, Doubles tables) {
  for (const auto& [name, v] : tables) h5::write_doubles(g, name, shape, *v);
}

// /sweeps/{sweep}: one sweep's tables by level (L), configuration (K) and model (M).
void write_sweep(h5::Id parent, const SweepDerived& x, h5::hsize K) {
  auto g = h5::create_group(parent, x.name);
  // every dataset name checked against the schema (/sweeps/{sweep}/...)
  const auto n = [&](std::string_view name) {
    return schema::child(schema::kSweep, name, {{"method", x.method}});
  };
  const auto L = static_cast<h5::hsize>(x.levels.size());
  const auto M = static_cast<h5::hsize>(L ? x.accuracy.size() / L : 0);
  write_sweep_attrs(g.id(), x);
  h5::write_doubles(g.id(), n("levels"), {L}, x.levels);
  h5::write_strings(g.id(), n("sets"), x.sets);
  h5::write_int64s(g.id(), n("images"), {L}, x.images);
  write_all(g.id(), {L, K},
            {{n("mean"), &x.mean},
             {n("mean_ci_low"), &x.mean_ci_low},
             {n("mean_ci_high"), &x.mean_ci_high},
             {n("calibrated_mean"), &x.calibrated_mean},
             {n("calibrated_mean_ci_low"), &x.calibrated_ci_low},
             {n("calibrated_mean_ci_high"), &x.calibrated_ci_high},
             {n("significant_fraction"), &x.significant},
             {n("significant_fraction_ci_low"), &x.significant_ci_low},
             {n("significant_fraction_ci_high"), &x.significant_ci_high},
             {n("relative_calibrated"), &x.relative},
             {n("relative_calibrated_ci_low"), &x.relative_ci_low},
             {n("relative_calibrated_ci_high"), &x.relative_ci_high},
             {n("chance_share"), &x.chance_share}});
  if (x.chance_level.size() == L * K)
    h5::write_doubles(g.id(), n("chance_level"), {L, K}, x.chance_level);
  write_all(g.id(), {K},
            {{n("breaking_level"), &x.breaking_level},
             {n("breaking_level_low"), &x.breaking_level_low},
             {n("breaking_level_high"), &x.breaking_level_high},
             {n("breaking_agreement"), &x.breaking_agreement},
             {n("relative_breaking_level"), &x.relative_breaking_level},
             {n("relative_breaking_level_low"), &x.relative_breaking_level_low},
             {n("relative_breaking_level_high"), &x.relative_breaking_level_high},
             {n("relative_breaking_agreement"), &x.relative_breaking_agreement}});
  write_all(g.id(), {L, K, K},
            {{n("{method}"), &x.r},
             {n("{method}_ci_low"), &x.r_ci_low},
             {n("{method}_ci_high"), &x.r_ci_high},
             {n("{method}_mantel_p"), &x.mantel_p},
             {n("{method}_null_mean"), &x.null_mean},
             {n("{method}_null_q95"), &x.null_q95},
             {n("{method}_null_p"), &x.null_p},
             {n("correlation_p"), &x.test_p}});
  h5::write_int64s(g.id(), n("correlation_test"), {K, K}, x.correlation_test);
  h5::write_doubles(g.id(), n("correlation_breaking_level"), {K, K}, x.correlation_breaking_level);
  h5::write_doubles(g.id(), n("accuracy"), {L, M}, x.accuracy);
  h5::write_doubles(g.id(), n("mean_prob"), {L, M}, x.mean_prob);
  h5::write_doubles(g.id(), n("agreement"), {L}, x.agreement);
}

// /correlation/{set}/{method}*: one correlation method's tables (K configurations).
void write_correlation_method(h5::Id g, const CorrelationTable& t, h5::hsize K) {
  // dataset names checked against the schema (/correlation/{set}/...)
  const auto cn = [&](std::string_view name) {
    return schema::child(schema::kCorrelationSet, name, {{"method", t.method}});
  };
  h5::write_doubles(g, cn("{method}"), {K, K}, t.r);
  h5::write_doubles(g, cn("{method}_pvalue"), {K, K}, t.p);
  h5::write_int64s(g, cn("{method}_n"), {K, K}, t.n);
  if (!t.ci_low.empty()) {
    h5::write_doubles(g, cn("{method}_ci_low"), {K, K}, t.ci_low);
    h5::write_doubles(g, cn("{method}_ci_high"), {K, K}, t.ci_high);
    if (!t.ci_p.empty()) h5::write_doubles(g, cn("{method}_ci_pvalue"), {K, K}, t.ci_p);
  }
  if (!t.mantel_p.empty()) h5::write_doubles(g, cn("{method}_mantel_p"), {K, K}, t.mantel_p);
  if (!t.null_mean.empty()) {
    h5::write_doubles(g, cn("{method}_null_mean"), {K, K}, t.null_mean);
    h5::write_doubles(g, cn("{method}_null_q95"), {K, K}, t.null_q95);
    h5::write_doubles(g, cn("{method}_null_p"), {K, K}, t.null_p);
  }
  h5::write_doubles(g, cn("accuracy_{method}"), {K}, t.acc_r);
  h5::write_doubles(g, cn("accuracy_{method}_pvalue"), {K}, t.acc_p);
  h5::write_int64s(g, cn("accuracy_{method}_n"), {K}, t.acc_n);
}

// /correlation/{set}: the set's correlations between configurations, its
// mean alignments; then the calibration's q-values of the set.
void write_correlation(h5::Id f, h5::Id corr, const Derived& d, const SetDerived& s) {
  const auto K = static_cast<h5::hsize>(d.configurations.size());
  const auto M = static_cast<h5::hsize>(s.accuracy.size());
  auto g = h5::create_group(corr, s.set);
  const auto attr = [](std::string_view name) {
    return schema::attr(schema::kCorrelationSet, name);
  };
  const auto cn = [](std::string_view name) {
    return schema::child(schema::kCorrelationSet, name);
  };
  h5::write_attr(g.id(), attr("configurations"), json(d.configurations).dump());
  h5::write_attr(g.id(), attr("methods"), json(d.methods).dump());
  h5::write_attr(g.id(), attr("pairs"), s.model_pairs);
  h5::write_attr(g.id(), attr("bootstrap"), static_cast<std::int64_t>(d.bootstrap));
  h5::write_attr(g.id(), attr("confidence"), d.confidence);
  h5::write_attr(g.id(), attr("seed"), static_cast<std::int64_t>(d.seed));
  h5::write_attr(g.id(), attr("resampling"), std::string("models"));
  h5::write_attr(g.id(), attr("mantel"), static_cast<std::int64_t>(d.mantel));
  h5::write_attr(g.id(), attr("vector"), std::string("upper triangle, i < j"));
  for (const auto& t : s.correlations) write_correlation_method(g.id(), t, K);
  h5::write_doubles(g.id(), cn("mean_alignment"), {K, M}, s.mean_alignment);
  if (!s.chance_share.empty()) h5::write_doubles(g.id(), cn("chance_share"), {K}, s.chance_share);
  if (!s.mean.empty()) {
    h5::write_attr(g.id(), attr("mean_seed"), static_cast<std::int64_t>(d.mean_seed));
    write_all(g.id(), {K},
              {{cn("mean"), &s.mean},
               {cn("mean_ci_low"), &s.mean_ci_low},
               {cn("mean_ci_high"), &s.mean_ci_high},
               {cn("calibrated_mean"), &s.calibrated_mean},
               {cn("calibrated_mean_ci_low"), &s.calibrated_mean_ci_low},
               {cn("calibrated_mean_ci_high"), &s.calibrated_mean_ci_high}});
  }
  for (const auto& q : s.qvalues) {
    auto ds =
        h5::open_dataset(f, schema::path(schema::kQvalue, {{"set", s.set}, {"config", q.config}}));
    h5::write_box(ds.id(), h5::native_double(), {0, 0}, {M, M}, q.qvalue.data());
  }
}

// /predictions/{set}: the models' accuracy and agreement on the set.
void write_predictions(h5::Id pred, const SetDerived& s) {
  const auto M = static_cast<h5::hsize>(s.accuracy.size());
  auto p = h5::create_group(pred, s.set);
  const auto n = [](std::string_view name) { return schema::child(schema::kPredictionsSet, name); };
  h5::write_attr(p.id(), schema::attr(schema::kPredictionsSet, "n"), s.n);
  h5::write_attr(p.id(), schema::attr(schema::kPredictionsSet, "labelled"), s.labelled);
  h5::write_attr(p.id(), schema::attr(schema::kPredictionsSet, "label_space"), s.label_space);
  if (s.labels_match.size() == M) h5::write_int64s(p.id(), n("labels_match"), {M}, s.labels_match);
  h5::write_doubles(p.id(), n("accuracy"), {M}, s.accuracy);
  h5::write_doubles(p.id(), n("mean_prob"), {M}, s.mean_prob);
  h5::write_doubles(p.id(), n("mean_prob_wrong"), {M}, s.mean_prob_wrong);
  h5::write_doubles(p.id(), n("agreement"), {M, M}, s.agreement);
  h5::write_int64s(p.id(), n("both_wrong"), {M, M}, s.both_wrong);
  h5::write_doubles(p.id(), n("agreement_both_wrong"), {M, M}, s.agreement_both_wrong);
}

// /comparison/{set_a}/{set_b}: the paired differences of two sets' correlations.
void write_comparison(h5::Id cmp, const Derived& d, const SetComparison& c) {
  const auto K = static_cast<h5::hsize>(d.configurations.size());
  auto a = open_or_create_group(cmp, c.set_a);
  auto g = h5::create_group(a.id(), c.set_b);
  const auto attr = [](std::string_view name) {
    return schema::attr(schema::kComparisonPair, name);
  };
  h5::write_attr(g.id(), attr("sets"), json{c.set_a, c.set_b}.dump());
  h5::write_attr(g.id(), attr("methods"), json(d.methods).dump());
  h5::write_attr(g.id(), attr("bootstrap"), static_cast<std::int64_t>(d.bootstrap));
  h5::write_attr(g.id(), attr("confidence"), d.confidence);
  h5::write_attr(g.id(), attr("seed"), static_cast<std::int64_t>(d.seed));
  h5::write_attr(g.id(), attr("test"), std::string("paired bootstrap over models"));
  for (const auto& t : c.methods) {
    const auto n = [&](std::string_view name) {
      return schema::child(schema::kComparisonPair, name, {{"method", t.method}});
    };
    write_all(g.id(), {K, K},
              {{n("{method}_diff"), &t.diff},
               {n("{method}_diff_ci_low"), &t.ci_low},
               {n("{method}_diff_ci_high"), &t.ci_high},
               {n("{method}_diff_pvalue"), &t.p}});
  }
}

}  // namespace

void write_derived(const std::string& path, const Derived& d) {
  h5::quiet();
  auto file = open_rw(path);
  const h5::Id f = file.id();
  const auto K = static_cast<h5::hsize>(d.configurations.size());
  for (const auto top :
       {schema::kCorrelation, schema::kPredictions, schema::kComparison, schema::kSweeps})
    h5::remove(f, schema::path(top, {}));
  h5::write_attr(f, schema::attr(schema::kRoot, "complete"), std::int64_t{0});
  auto corr = h5::create_group(f, schema::path(schema::kCorrelation, {}));
  auto pred = h5::create_group(f, schema::path(schema::kPredictions, {}));
  if (!d.model_label_spaces.empty())
    h5::write_attr(pred.id(), schema::attr(schema::kPredictions, "model_label_spaces"),
                   json(d.model_label_spaces).dump());
  for (const auto& s : d.sets) {
    write_correlation(f, corr.id(), d, s);
    write_predictions(pred.id(), s);
  }
  if (!d.comparisons.empty()) {
    auto cmp = h5::create_group(f, schema::path(schema::kComparison, {}));
    for (const auto& c : d.comparisons) write_comparison(cmp.id(), d, c);
  }
  if (!d.sweeps.empty()) {
    auto sw = h5::create_group(f, schema::path(schema::kSweeps, {}));
    for (const auto& x : d.sweeps) write_sweep(sw.id(), x, K);
  }
  h5::write_attr(f, schema::attr(schema::kRoot, "derived_hash"), d.hash);
  h5::write_attr(f, schema::attr(schema::kRoot, "complete"), std::int64_t{1});
}

}  // namespace prh::store
