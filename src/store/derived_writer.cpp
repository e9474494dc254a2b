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

void write_sweep(h5::Id parent, const SweepDerived& x, h5::hsize K) {
  auto g = h5::create_group(parent, x.name);
  // every dataset name checked against the schema (/sweeps/{sweep}/...)
  const auto n = [&](std::string_view name) {
    return schema::child(schema::kSweep, name, {{"method", x.method}});
  };
  const auto L = static_cast<h5::hsize>(x.levels.size());
  const auto M = static_cast<h5::hsize>(L ? x.accuracy.size() / L : 0);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "family"), x.family);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "base"), x.base);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "parameter"), x.parameter);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "description"), x.description);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "alpha"), x.alpha);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "breaking_fraction"), x.breaking_fraction);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "relative_breaking"), x.relative_breaking);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "significant_fraction_is"),
                 std::string("power curve: share of pairs with q < alpha at `images` images per "
                             "level; it grows with the images, it is not an effect size"));
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "correlation_test_codes"),
                 std::string("1: calibration null (one-sided p of the coefficient over the pairs' "
                             "null scores); 0: not tested (no calibration null)"));
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "bootstrap"),
                 static_cast<std::int64_t>(x.bootstrap));
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "confidence"), x.confidence);
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "seed"), static_cast<std::int64_t>(x.seed));
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "resampling"), std::string("models"));
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "calibrated"),
                 static_cast<std::int64_t>(x.calibrated));
  h5::write_attr(g.id(), schema::attr(schema::kSweep, "method"), x.method);
  h5::write_doubles(g.id(), n("levels"), {L}, x.levels);
  h5::write_strings(g.id(), n("sets"), x.sets);
  h5::write_int64s(g.id(), n("images"), {L}, x.images);
  const std::pair<std::string, const std::vector<double>*> lk[] = {
      {n("mean"), &x.mean},
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
      {n("chance_share"), &x.chance_share}};
  for (const auto& [name, v] : lk) h5::write_doubles(g.id(), name, {L, K}, *v);
  if (x.chance_level.size() == L * K)
    h5::write_doubles(g.id(), n("chance_level"), {L, K}, x.chance_level);
  const std::pair<std::string, const std::vector<double>*> k1[] = {
      {n("breaking_level"), &x.breaking_level},
      {n("breaking_level_low"), &x.breaking_level_low},
      {n("breaking_level_high"), &x.breaking_level_high},
      {n("breaking_agreement"), &x.breaking_agreement},
      {n("relative_breaking_level"), &x.relative_breaking_level},
      {n("relative_breaking_level_low"), &x.relative_breaking_level_low},
      {n("relative_breaking_level_high"), &x.relative_breaking_level_high},
      {n("relative_breaking_agreement"), &x.relative_breaking_agreement}};
  for (const auto& [name, v] : k1) h5::write_doubles(g.id(), name, {K}, *v);
  const std::pair<std::string, const std::vector<double>*> lkk[] = {
      {n("{method}"), &x.r},
      {n("{method}_ci_low"), &x.r_ci_low},
      {n("{method}_ci_high"), &x.r_ci_high},
      {n("{method}_mantel_p"), &x.mantel_p},
      {n("{method}_null_mean"), &x.null_mean},
      {n("{method}_null_q95"), &x.null_q95},
      {n("{method}_null_p"), &x.null_p},
      {n("correlation_p"), &x.test_p}};
  for (const auto& [name, v] : lkk) h5::write_doubles(g.id(), name, {L, K, K}, *v);
  h5::write_int64s(g.id(), n("correlation_test"), {K, K}, x.correlation_test);
  h5::write_doubles(g.id(), n("correlation_breaking_level"), {K, K}, x.correlation_breaking_level);
  h5::write_doubles(g.id(), n("accuracy"), {L, M}, x.accuracy);
  h5::write_doubles(g.id(), n("mean_prob"), {L, M}, x.mean_prob);
  h5::write_doubles(g.id(), n("agreement"), {L}, x.agreement);
}

}  // namespace

void write_derived(const std::string& path, const Derived& d) {
  h5::quiet();
  auto file = open_rw(path);
  const h5::Id f = file.id();
  const auto K = static_cast<h5::hsize>(d.configurations.size());
  const json configs = d.configurations, methods = d.methods;
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
    const auto M = static_cast<h5::hsize>(s.accuracy.size());
    auto g = h5::create_group(corr.id(), s.set);
    // dataset names checked against the schema (/correlation/{set}/...)
    const auto cn = [](std::string_view name, std::string_view method = "") {
      return schema::child(schema::kCorrelationSet, name, {{"method", method}});
    };
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "configurations"), configs.dump());
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "methods"), methods.dump());
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "pairs"), s.model_pairs);
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "bootstrap"),
                   static_cast<std::int64_t>(d.bootstrap));
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "confidence"), d.confidence);
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "seed"),
                   static_cast<std::int64_t>(d.seed));
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "resampling"),
                   std::string("models"));
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "mantel"),
                   static_cast<std::int64_t>(d.mantel));
    h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "vector"),
                   std::string("upper triangle, i < j"));
    for (const auto& t : s.correlations) {
      h5::write_doubles(g.id(), cn("{method}", t.method), {K, K}, t.r);
      h5::write_doubles(g.id(), cn("{method}_pvalue", t.method), {K, K}, t.p);
      h5::write_int64s(g.id(), cn("{method}_n", t.method), {K, K}, t.n);
      if (!t.ci_low.empty()) {
        h5::write_doubles(g.id(), cn("{method}_ci_low", t.method), {K, K}, t.ci_low);
        h5::write_doubles(g.id(), cn("{method}_ci_high", t.method), {K, K}, t.ci_high);
        if (!t.ci_p.empty())
          h5::write_doubles(g.id(), cn("{method}_ci_pvalue", t.method), {K, K}, t.ci_p);
      }
      if (!t.mantel_p.empty())
        h5::write_doubles(g.id(), cn("{method}_mantel_p", t.method), {K, K}, t.mantel_p);
      if (!t.null_mean.empty()) {
        h5::write_doubles(g.id(), cn("{method}_null_mean", t.method), {K, K}, t.null_mean);
        h5::write_doubles(g.id(), cn("{method}_null_q95", t.method), {K, K}, t.null_q95);
        h5::write_doubles(g.id(), cn("{method}_null_p", t.method), {K, K}, t.null_p);
      }
      h5::write_doubles(g.id(), cn("accuracy_{method}", t.method), {K}, t.acc_r);
      h5::write_doubles(g.id(), cn("accuracy_{method}_pvalue", t.method), {K}, t.acc_p);
      h5::write_int64s(g.id(), cn("accuracy_{method}_n", t.method), {K}, t.acc_n);
    }
    h5::write_doubles(g.id(), cn("mean_alignment"), {K, M}, s.mean_alignment);
    if (!s.chance_share.empty()) h5::write_doubles(g.id(), cn("chance_share"), {K}, s.chance_share);
    if (!s.mean.empty()) {
      h5::write_attr(g.id(), schema::attr(schema::kCorrelationSet, "mean_seed"),
                     static_cast<std::int64_t>(d.mean_seed));
      const std::pair<std::string, const std::vector<double>*> means[] = {
          {cn("mean"), &s.mean},
          {cn("mean_ci_low"), &s.mean_ci_low},
          {cn("mean_ci_high"), &s.mean_ci_high},
          {cn("calibrated_mean"), &s.calibrated_mean},
          {cn("calibrated_mean_ci_low"), &s.calibrated_mean_ci_low},
          {cn("calibrated_mean_ci_high"), &s.calibrated_mean_ci_high}};
      for (const auto& [name, v] : means) h5::write_doubles(g.id(), name, {K}, *v);
    }
    for (const auto& q : s.qvalues) {
      auto ds = h5::open_dataset(
          f, schema::path(schema::kQvalue, {{"set", s.set}, {"config", q.config}}));
      h5::write_box(ds.id(), h5::native_double(), {0, 0}, {M, M}, q.qvalue.data());
    }

    auto p = h5::create_group(pred.id(), s.set);
    h5::write_attr(p.id(), schema::attr(schema::kPredictionsSet, "n"), s.n);
    h5::write_attr(p.id(), schema::attr(schema::kPredictionsSet, "labelled"), s.labelled);
    h5::write_attr(p.id(), schema::attr(schema::kPredictionsSet, "label_space"), s.label_space);
    if (s.labels_match.size() == M)
      h5::write_int64s(p.id(), schema::child(schema::kPredictionsSet, "labels_match"), {M},
                       s.labels_match);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "accuracy"), {M}, s.accuracy);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "mean_prob"), {M},
                      s.mean_prob);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "mean_prob_wrong"), {M},
                      s.mean_prob_wrong);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "agreement"), {M, M},
                      s.agreement);
    h5::write_int64s(p.id(), schema::child(schema::kPredictionsSet, "both_wrong"), {M, M},
                     s.both_wrong);
    h5::write_doubles(p.id(), schema::child(schema::kPredictionsSet, "agreement_both_wrong"),
                      {M, M}, s.agreement_both_wrong);
  }
  if (!d.comparisons.empty()) {
    auto cmp = h5::create_group(f, schema::path(schema::kComparison, {}));
    for (const auto& c : d.comparisons) {
      auto a = open_or_create_group(cmp.id(), c.set_a);
      auto g = h5::create_group(a.id(), c.set_b);
      h5::write_attr(g.id(), schema::attr(schema::kComparisonPair, "sets"),
                     json{c.set_a, c.set_b}.dump());
      h5::write_attr(g.id(), schema::attr(schema::kComparisonPair, "methods"), methods.dump());
      h5::write_attr(g.id(), schema::attr(schema::kComparisonPair, "bootstrap"),
                     static_cast<std::int64_t>(d.bootstrap));
      h5::write_attr(g.id(), schema::attr(schema::kComparisonPair, "confidence"), d.confidence);
      h5::write_attr(g.id(), schema::attr(schema::kComparisonPair, "seed"),
                     static_cast<std::int64_t>(d.seed));
      h5::write_attr(g.id(), schema::attr(schema::kComparisonPair, "test"),
                     std::string("paired bootstrap over models"));
      for (const auto& t : c.methods) {
        h5::write_doubles(
            g.id(), schema::child(schema::kComparisonPair, "{method}_diff", {{"method", t.method}}),
            {K, K}, t.diff);
        h5::write_doubles(
            g.id(),
            schema::child(schema::kComparisonPair, "{method}_diff_ci_low", {{"method", t.method}}),
            {K, K}, t.ci_low);
        h5::write_doubles(
            g.id(),
            schema::child(schema::kComparisonPair, "{method}_diff_ci_high", {{"method", t.method}}),
            {K, K}, t.ci_high);
        h5::write_doubles(
            g.id(),
            schema::child(schema::kComparisonPair, "{method}_diff_pvalue", {{"method", t.method}}),
            {K, K}, t.p);
      }
    }
  }
  if (!d.sweeps.empty()) {
    auto sw = h5::create_group(f, schema::path(schema::kSweeps, {}));
    for (const auto& x : d.sweeps) write_sweep(sw.id(), x, K);
  }
  h5::write_attr(f, schema::attr(schema::kRoot, "derived_hash"), d.hash);
  h5::write_attr(f, schema::attr(schema::kRoot, "complete"), std::int64_t{1});
}

}  // namespace prh::store
