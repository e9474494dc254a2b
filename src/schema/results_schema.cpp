#include "results_schema.hpp"

#include "export_tables.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace prh::schema {
namespace {

using declare::A;
using declare::D;
using declare::G;
using declare::opt;
using declare::req;

// The root's attributes, /models and /configurations.
std::vector<Entry> root_entries() {
  return {
      G("/", req, "the file"),
      A("/", "format", "string", "", req, "\"prh-results-1\""),
      A("/", "prh_version", "string", "", req, "the prh that wrote it"),
      A("/", "config_file", "string", "", req, "the sweep config's path"),
      A("/", "config_text", "string", "", opt, "the sweep config's text"),
      A("/", "config", "json", "", req, "the whole sweep config"),
      A("/", "identity", "json", "", req, "what the scores depend on"),
      A("/", "config_hash", "string", "", req, "16 hex digits, FNV-1a of identity"),
      A("/", "store", "string", "", req, "the store's path"),
      A("/", "device", "string", "", opt, "devices of the runs on this file, comma-separated"),
      A("/", "complete", "int64", "", req, "1 once every table is written"),
      A("/", "derived_hash", "string", "", opt, "what the derived tables were computed from"),
      D("/models", "string", "[M]", req, "model names, matrix order"),
      A("/models", "layer_counts", "int64", "[M]", req, "layers used per model"),
      A("/models", "classes", "int64", "[M]", req, "classifier classes (0: no head)"),
      A("/models", "training_data", "json", "", opt, "JSON array of M strings"),
      A("/models", "family", "json", "", opt, "JSON array of M strings"),
      A("/models", "objective", "json", "", opt, "JSON array of M strings"),
      D("/configurations", "string", "[K]", req, "canonical configuration names"),
  };
}

// /alignment: the scores of every configuration.
std::vector<Entry> alignment_entries() {
  return {
      G("/alignment", req, "the alignment scores"),
      G("/alignment/{set}", req, "one group per image set"),
      A("/alignment/{set}", "n", "int64", "", req, "images used"),
      A("/alignment/{set}", "skipped", "int64", "", req, "rows excluded"),
      A("/alignment/{set}", "models_present", "int64", "[M]", req, "1 = embeddings complete"),
      G("/alignment/{set}/{config}", req, "one group per configuration"),
      A("/alignment/{set}/{config}", "metric", "string", "", req, "the metric"),
      A("/alignment/{set}/{config}", "k", "int64", "", opt, "parameter"),
      A("/alignment/{set}/{config}", "cca_dim", "int64", "", opt, "parameter"),
      A("/alignment/{set}/{config}", "kernel", "string", "", opt, "parameter"),
      A("/alignment/{set}/{config}", "sigma", "float64", "", opt, "parameter"),
      A("/alignment/{set}/{config}", "params", "json", "", req, "the parameters"),
      A("/alignment/{set}/{config}", "symmetric", "int64", "", req, "0/1"),
      A("/alignment/{set}/{config}", "preprocess", "json", "", req, "clamp, q, exact, normalize"),
      A("/alignment/{set}/{config}", "last_layer_only", "int64", "", req, "0/1"),
      D("/alignment/{set}/{config}/scores", "float64", "[M, M]", req, "metric(model i, model j)"),
      D("/alignment/{set}/{config}/layers", "int32", "[M, M, 2]", req, "the argmax layer pair"),
      D("/alignment/{set}/{config}/done", "uint8", "[P]", req, "progress per pair i <= j"),
  };
}

// /layers and /layer_profile (layer_profile on): the layer-by-layer scores and their summary.
std::vector<Entry> layers_entries() {
  return {
      G("/layers", opt, "layer-by-layer scores (layer_profile on)"),
      A("/layers", "layer_counts", "int64", "[M]", req, "every layer of each model"),
      A("/layers", "max_layers", "int64", "", req, "Lmax"),
      A("/layers", "padding", "string", "", req, "sentence: what NaN means"),
      G("/layers/{set}", req, "one group per image set"),
      D("/layers/{set}/{config}", "float64", "[M, M, Lmax, Lmax]", req,
        "score of layer l of model i against layer m of model j"),
      G("/layer_profile", opt, "derived: alignment by relative depth (layer_profile on)"),
      A("/layer_profile", "configurations", "json", "", req, "column order"),
      A("/layer_profile", "depth_rule", "string", "", req, "sentence: layers to depths"),
      A("/layer_profile", "estimator", "string", "", req, "sentence: what mean is"),
      A("/layer_profile", "bootstrap", "int64", "", req, "resamples"),
      A("/layer_profile", "confidence", "float64", "", req, "interval level"),
      A("/layer_profile", "seed", "int64", "", req, "seed of the resamples"),
      A("/layer_profile", "resampling", "string", "", req, "\"models\""),
      A("/layer_profile", "reference", "string", "", req, "the set relative divides by"),
      A("/layer_profile", "contrast", "string", "", opt,
        "sentence: early_late and its change (absent before the contrast)"),
      D("/layer_profile/depths", "float64", "[G]", req, "the depth grid (g + 1) / G"),
      G("/layer_profile/{set}", req, "one group per image set"),
      D("/layer_profile/{set}/mean", "float64", "[G, K]", req, "mean same-depth score"),
      D("/layer_profile/{set}/mean_ci_low", "float64", "[G, K]", req, "interval"),
      D("/layer_profile/{set}/mean_ci_high", "float64", "[G, K]", req, "interval"),
      D("/layer_profile/{set}/pairs", "int64", "[G, K]", req, "finite ordered pairs"),
      D("/layer_profile/{set}/relative", "float64", "[G, K]", req,
        "mean over the reference set's mean at the same depth"),
      D("/layer_profile/{set}/relative_ci_low", "float64", "[G, K]", req, "interval"),
      D("/layer_profile/{set}/relative_ci_high", "float64", "[G, K]", req, "interval"),
      D("/layer_profile/{set}/early_late", "float64", "[K]", opt,
        "mean at the first grid point minus mean at the last"),
      D("/layer_profile/{set}/early_late_ci_low", "float64", "[K]", opt, "interval"),
      D("/layer_profile/{set}/early_late_ci_high", "float64", "[K]", opt, "interval"),
      D("/layer_profile/{set}/early_late_p", "float64", "[K]", opt,
        "jackknife (delete one model) t p of early_late = 0, the interval's construction"),
      D("/layer_profile/{set}/early_late_change", "float64", "[K]", opt,
        "early_late minus the reference set's"),
      D("/layer_profile/{set}/early_late_change_ci_low", "float64", "[K]", opt, "interval"),
      D("/layer_profile/{set}/early_late_change_ci_high", "float64", "[K]", opt, "interval"),
      D("/layer_profile/{set}/early_late_change_p", "float64", "[K]", opt,
        "jackknife (delete one model) t p of early_late_change = 0, the interval's construction"),
  };
}

// /correlation: correlations between configurations.
std::vector<Entry> correlation_entries() {
  return {
      G("/correlation", opt, "derived: correlations between configurations"),
      G("/correlation/{set}", opt, "one group per image set"),
      A("/correlation/{set}", "configurations", "json", "", req, "matrix order"),
      A("/correlation/{set}", "methods", "json", "", req, "correlation methods"),
      A("/correlation/{set}", "pairs", "int64", "", req, "model pairs i < j"),
      A("/correlation/{set}", "bootstrap", "int64", "", req, "resamples"),
      A("/correlation/{set}", "confidence", "float64", "", req, "interval level"),
      A("/correlation/{set}", "seed", "int64", "", req, "the config's seed"),
      A("/correlation/{set}", "mean_seed", "int64", "", opt, "seed of the mean* resamples"),
      A("/correlation/{set}", "mantel", "int64", "", req, "Mantel relabellings"),
      A("/correlation/{set}", "resampling", "string", "", req, "\"models\""),
      A("/correlation/{set}", "vector", "string", "", req, "\"upper triangle, i < j\""),
      D("/correlation/{set}/{method}", "float64", "[K, K]", req, "correlation of configurations"),
      D("/correlation/{set}/{method}_pvalue", "float64", "[K, K]", req, "asymptotic p"),
      D("/correlation/{set}/{method}_mantel_p", "float64", "[K, K]", opt, "Mantel p"),
      D("/correlation/{set}/{method}_n", "int64", "[K, K]", req, "model pairs used"),
      D("/correlation/{set}/{method}_ci_low", "float64", "[K, K]", opt, "bootstrap interval"),
      D("/correlation/{set}/{method}_ci_high", "float64", "[K, K]", opt, "bootstrap interval"),
      D("/correlation/{set}/{method}_ci_pvalue", "float64", "[K, K]", opt, "the interval's p"),
      D("/correlation/{set}/mean_alignment", "float64", "[K, M]", req, "mean score per model"),
      D("/correlation/{set}/mean", "float64", "[K]", opt, "mean score over the pairs"),
      D("/correlation/{set}/mean_ci_low", "float64", "[K]", opt, "its bootstrap interval"),
      D("/correlation/{set}/mean_ci_high", "float64", "[K]", opt, "its bootstrap interval"),
      D("/correlation/{set}/calibrated_mean", "float64", "[K]", opt, "mean calibrated score"),
      D("/correlation/{set}/calibrated_mean_ci_low", "float64", "[K]", opt, "its interval"),
      D("/correlation/{set}/calibrated_mean_ci_high", "float64", "[K]", opt, "its interval"),
      D("/correlation/{set}/accuracy_{method}", "float64", "[K]", req,
        "correlation of mean_alignment with accuracy"),
      D("/correlation/{set}/accuracy_{method}_pvalue", "float64", "[K]", req, "its p"),
      D("/correlation/{set}/accuracy_{method}_n", "int64", "[K]", req, "models used"),
      D("/correlation/{set}/{method}_null_mean", "float64", "[K, K]", opt, "correlation null mean"),
      D("/correlation/{set}/{method}_null_q95", "float64", "[K, K]", opt, "its 0.95 quantile"),
      D("/correlation/{set}/{method}_null_p", "float64", "[K, K]", opt, "agreement beyond chance"),
      D("/correlation/{set}/chance_share", "float64", "[K]", opt, "share of variance from chance"),
  };
}

// /predictions: the classifiers' predictions.
std::vector<Entry> predictions_entries() {
  return {
      G("/predictions", opt, "derived: classifier predictions"),
      A("/predictions", "model_label_spaces", "json", "", opt, "JSON [M] label spaces"),
      G("/predictions/{set}", opt, "one group per image set"),
      A("/predictions/{set}", "n", "int64", "", req, "images"),
      A("/predictions/{set}", "labelled", "int64", "", req, "images with a label"),
      A("/predictions/{set}", "label_space", "string", "", opt, "the set's label space"),
      D("/predictions/{set}/labels_match", "int64", "[M]", opt, "1, 0 or -1"),
      D("/predictions/{set}/accuracy", "float64", "[M]", req, "top-1 accuracy"),
      D("/predictions/{set}/mean_prob", "float64", "[M]", req, "mean top-1 probability"),
      D("/predictions/{set}/mean_prob_wrong", "float64", "[M]", req, "the same when wrong"),
      D("/predictions/{set}/agreement", "float64", "[M, M]", req, "same prediction"),
      D("/predictions/{set}/both_wrong", "int64", "[M, M]", req, "both wrong"),
      D("/predictions/{set}/agreement_both_wrong", "float64", "[M, M]", req, "fail together"),
  };
}

// /comparison: paired comparisons of two image sets.
std::vector<Entry> comparison_entries() {
  return {
      G("/comparison", opt, "derived: paired comparisons of two image sets"),
      G("/comparison/{set_a}", opt, "the first set"),
      G("/comparison/{set_a}/{set_b}", opt, "one group per pair of sets"),
      A("/comparison/{set_a}/{set_b}", "sets", "json", "", req, "[S1, S2]"),
      A("/comparison/{set_a}/{set_b}", "methods", "json", "", req, "correlation methods"),
      A("/comparison/{set_a}/{set_b}", "bootstrap", "int64", "", req, "resamples"),
      A("/comparison/{set_a}/{set_b}", "confidence", "float64", "", req, "interval level"),
      A("/comparison/{set_a}/{set_b}", "seed", "int64", "", req, "seed"),
      A("/comparison/{set_a}/{set_b}", "test", "string", "", req, "the test"),
      D("/comparison/{set_a}/{set_b}/{method}_diff", "float64", "[K, K]", req, "r(S1) - r(S2)"),
      D("/comparison/{set_a}/{set_b}/{method}_diff_ci_low", "float64", "[K, K]", req, "interval"),
      D("/comparison/{set_a}/{set_b}/{method}_diff_ci_high", "float64", "[K, K]", req, "interval"),
      D("/comparison/{set_a}/{set_b}/{method}_diff_pvalue", "float64", "[K, K]", req, "p"),
  };
}

// /calibration: the permutation calibration.
std::vector<Entry> calibration_entries() {
  return {
      G("/calibration", opt, "the permutation calibration (calibration on)"),
      A("/calibration", "permutations", "int64", "", req, "K permutations"),
      A("/calibration", "alpha", "float64", "", req, "level"),
      A("/calibration", "seed", "int64", "", req, "seed"),
      A("/calibration", "configurations", "json", "", req, "those calibrated"),
      A("/calibration", "skipped", "json", "", req, "those without a null"),
      A("/calibration", "null", "string", "", req, "what is shuffled"),
      G("/calibration/{set}", req, "one group per image set"),
      A("/calibration/{set}", "identity", "json", "", req, "what the group was made for"),
      D("/calibration/{set}/done", "uint8", "[P]", req, "progress per pair i < j"),
      G("/calibration/{set}/{config}", opt, "one group per calibrated configuration"),
      A("/calibration/{set}/{config}", "permutations", "int64", "", req, "K permutations"),
      A("/calibration/{set}/{config}", "alpha", "float64", "", req, "level"),
      A("/calibration/{set}/{config}", "seed", "int64", "", req, "seed"),
      D("/calibration/{set}/{config}/pvalue", "float64", "[M, M]", req, "permutation p"),
      D("/calibration/{set}/{config}/threshold", "float64", "[M, M]", req, "tau"),
      D("/calibration/{set}/{config}/calibrated", "float64", "[M, M]", req, "calibrated score"),
      D("/calibration/{set}/{config}/null_mean", "float64", "[M, M]", req, "null mean"),
      D("/calibration/{set}/{config}/null_sd", "float64", "[M, M]", req, "null sd"),
      D("/calibration/{set}/{config}/qvalue", "float64", "[M, M]", req, "BH q"),
      D("/calibration/{set}/{config}/null_scores", "float64", "[P, K]", req, "null scores (i, j)"),
      D("/calibration/{set}/{config}/null_scores_reverse", "float64", "[P, K]", opt,
        "null scores (j, i), asymmetric configurations"),
  };
}

// /groups: the group analysis (models labelled).
std::vector<Entry> groups_entries() {
  return {
      G("/groups", opt, "group analysis (models labelled)"),
      A("/groups", "configurations", "json", "", req, "the K of /configurations"),
      A("/groups", "factors", "json", "", req, "factors analysed"),
      A("/groups", "permutations", "int64", "", req, "relabellings"),
      A("/groups", "bootstrap", "int64", "", req, "resamples"),
      A("/groups", "confidence", "float64", "", req, "interval level"),
      A("/groups", "seed", "int64", "", req, "seed"),
      A("/groups", "score", "string", "", req, "the pair score"),
      A("/groups", "descriptive", "string", "", req, "sentence"),
      A("/groups", "effect_model", "string", "", req, "sentence"),
      A("/groups", "test", "string", "", req, "sentence"),
      A("/groups", "resampling", "string", "", req, "\"models\""),
      G("/groups/{set}", req, "one group per image set"),
      G("/groups/{set}/{factor}", opt, "one group per factor"),
      A("/groups/{set}/{factor}", "effect_note", "json", "", opt, "JSON [K] reasons"),
      D("/groups/{set}/{factor}/effect", "float64", "[K]", opt, "beta_F"),
      D("/groups/{set}/{factor}/effect_pvalue", "float64", "[K]", opt, "permutation p"),
      D("/groups/{set}/{factor}/effect_ci_low", "float64", "[K]", opt, "interval"),
      D("/groups/{set}/{factor}/effect_ci_high", "float64", "[K]", opt, "interval"),
      D("/groups/{set}/{factor}/effect_qvalue", "float64", "[K]", opt, "BH q"),
      D("/groups/{set}/{factor}/effect_permutations", "int64", "[K]", opt, "valid relabellings"),
      D("/groups/{set}/{factor}/within", "float64", "[K]", req, "mean within"),
      D("/groups/{set}/{factor}/across", "float64", "[K]", req, "mean across"),
      D("/groups/{set}/{factor}/gap", "float64", "[K]", req, "within - across"),
      D("/groups/{set}/{factor}/within_ci_low", "float64", "[K]", req, "interval"),
      D("/groups/{set}/{factor}/within_ci_high", "float64", "[K]", req, "interval"),
      D("/groups/{set}/{factor}/across_ci_low", "float64", "[K]", req, "interval"),
      D("/groups/{set}/{factor}/across_ci_high", "float64", "[K]", req, "interval"),
      D("/groups/{set}/{factor}/gap_ci_low", "float64", "[K]", req, "interval"),
      D("/groups/{set}/{factor}/gap_ci_high", "float64", "[K]", req, "interval"),
      D("/groups/{set}/{factor}/n_within", "int64", "[K]", req, "pairs within"),
      D("/groups/{set}/{factor}/n_across", "int64", "[K]", req, "pairs across"),
      D("/groups/{set}/{method}_across_training_data", "float64", "[K, K]", opt,
        "correlation over cross-data pairs"),
      D("/groups/{set}/{method}_across_training_data_pvalue", "float64", "[K, K]", opt, "p"),
      D("/groups/{set}/{method}_across_training_data_n", "int64", "[K, K]", opt, "pairs"),
      D("/groups/{set}/{method}_across_training_data_ci_low", "float64", "[K, K]", opt, "interval"),
      D("/groups/{set}/{method}_across_training_data_ci_high", "float64", "[K, K]", opt,
        "interval"),
      D("/groups/{set}/{method}_across_training_data_ci_pvalue", "float64", "[K, K]", opt,
        "the interval's p"),
  };
}

// /sweeps: the falsification sweeps (a declaration table, one line per dataset).
std::vector<Entry> sweeps_entries() {
  return {
      G("/sweeps", opt, "falsification sweeps"),
      G("/sweeps/{sweep}", req, "one group per sweep"),
      A("/sweeps/{sweep}", "family", "string", "", req, "the sweep family"),
      A("/sweeps/{sweep}", "base", "string", "", req, "the base set"),
      A("/sweeps/{sweep}", "parameter", "string", "", req, "the level's parameter"),
      A("/sweeps/{sweep}", "description", "string", "", req, "sentence"),
      A("/sweeps/{sweep}", "alpha", "float64", "", req, "the calibration's alpha"),
      A("/sweeps/{sweep}", "breaking_fraction", "float64", "", req, "of the power curve"),
      A("/sweeps/{sweep}", "relative_breaking", "float64", "", req, "of the effect size"),
      A("/sweeps/{sweep}", "significant_fraction_is", "string", "", req, "sentence"),
      A("/sweeps/{sweep}", "correlation_test_codes", "string", "", req, "sentence"),
      A("/sweeps/{sweep}", "bootstrap", "int64", "", req, "resamples"),
      A("/sweeps/{sweep}", "confidence", "float64", "", req, "interval level"),
      A("/sweeps/{sweep}", "seed", "int64", "", req, "seed"),
      A("/sweeps/{sweep}", "resampling", "string", "", req, "\"models\""),
      A("/sweeps/{sweep}", "calibrated", "int64", "", req, "0/1"),
      A("/sweeps/{sweep}", "method", "string", "", req, "the correlation method"),
      D("/sweeps/{sweep}/levels", "float64", "[L]", req, "the levels"),
      D("/sweeps/{sweep}/sets", "string", "[L]", req, "the image set of each level"),
      D("/sweeps/{sweep}/images", "int64", "[L]", req, "images of each level"),
      D("/sweeps/{sweep}/mean", "float64", "[L, K]", req, "mean raw score"),
      D("/sweeps/{sweep}/mean_ci_low", "float64", "[L, K]", req, "interval"),
      D("/sweeps/{sweep}/mean_ci_high", "float64", "[L, K]", req, "interval"),
      D("/sweeps/{sweep}/calibrated_mean", "float64", "[L, K]", req, "mean calibrated score"),
      D("/sweeps/{sweep}/calibrated_mean_ci_low", "float64", "[L, K]", req, "interval"),
      D("/sweeps/{sweep}/calibrated_mean_ci_high", "float64", "[L, K]", req, "interval"),
      D("/sweeps/{sweep}/significant_fraction", "float64", "[L, K]", req, "the power curve"),
      D("/sweeps/{sweep}/significant_fraction_ci_low", "float64", "[L, K]", req, "interval"),
      D("/sweeps/{sweep}/significant_fraction_ci_high", "float64", "[L, K]", req, "interval"),
      D("/sweeps/{sweep}/relative_calibrated", "float64", "[L, K]", req, "the effect size"),
      D("/sweeps/{sweep}/relative_calibrated_ci_low", "float64", "[L, K]", req, "interval"),
      D("/sweeps/{sweep}/relative_calibrated_ci_high", "float64", "[L, K]", req, "interval"),
      D("/sweeps/{sweep}/chance_share", "float64", "[L, K]", req, "gathered chance_share"),
      D("/sweeps/{sweep}/chance_level", "float64", "[L, K]", opt,
        "chance level per level: k/(N-1) for mutual_knn, NaN otherwise"),
      D("/sweeps/{sweep}/breaking_level", "float64", "[K]", req, "power curve breaking level"),
      D("/sweeps/{sweep}/breaking_level_low", "float64", "[K]", req, "interval"),
      D("/sweeps/{sweep}/breaking_level_high", "float64", "[K]", req, "interval"),
      D("/sweeps/{sweep}/breaking_agreement", "float64", "[K]", req, "resamples agreeing"),
      D("/sweeps/{sweep}/relative_breaking_level", "float64", "[K]", req, "effect breaking level"),
      D("/sweeps/{sweep}/relative_breaking_level_low", "float64", "[K]", req, "interval"),
      D("/sweeps/{sweep}/relative_breaking_level_high", "float64", "[K]", req, "interval"),
      D("/sweeps/{sweep}/relative_breaking_agreement", "float64", "[K]", req, "agreeing"),
      D("/sweeps/{sweep}/{method}", "float64", "[L, K, K]", req, "each level's correlation"),
      D("/sweeps/{sweep}/{method}_ci_low", "float64", "[L, K, K]", req, "gathered"),
      D("/sweeps/{sweep}/{method}_ci_high", "float64", "[L, K, K]", req, "gathered"),
      D("/sweeps/{sweep}/{method}_mantel_p", "float64", "[L, K, K]", req, "gathered"),
      D("/sweeps/{sweep}/{method}_null_mean", "float64", "[L, K, K]", req, "gathered"),
      D("/sweeps/{sweep}/{method}_null_q95", "float64", "[L, K, K]", req, "gathered"),
      D("/sweeps/{sweep}/{method}_null_p", "float64", "[L, K, K]", req, "gathered"),
      D("/sweeps/{sweep}/correlation_test", "int64", "[K, K]", req, "1 null, 0 not tested"),
      D("/sweeps/{sweep}/correlation_p", "float64", "[L, K, K]", req, "that test's p"),
      D("/sweeps/{sweep}/correlation_breaking_level", "float64", "[K, K]", req,
        "first level not rejecting"),
      D("/sweeps/{sweep}/accuracy", "float64", "[L, M]", req, "each level's accuracy"),
      D("/sweeps/{sweep}/mean_prob", "float64", "[L, M]", req, "each level's mean_prob"),
      D("/sweeps/{sweep}/agreement", "float64", "[L]", req, "mean top-1 agreement"),
  };
}

// The table, group by group in the order of docs/results.md.
std::vector<Entry> make() {
  std::vector<Entry> table;
  for (const auto& part : {root_entries(), alignment_entries(), layers_entries(),
                           correlation_entries(), predictions_entries(), comparison_entries(),
                           calibration_entries(), groups_entries(), sweeps_entries()})
    table.insert(table.end(), part.begin(), part.end());
  return table;
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::group:
      return "group";
    case Kind::dataset:
      return "dataset";
    case Kind::attribute:
      return "attribute";
  }
  return "";
}

}  // namespace

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = make();
  return table;
}

namespace {

const Entry* find_in(const std::vector<Entry>& table, std::string_view path,
                     std::string_view attribute) {
  for (const auto& e : table)
    if (e.path == path && e.attribute == attribute &&
        (attribute.empty() ? e.kind != Kind::attribute : e.kind == Kind::attribute))
      return &e;
  return nullptr;
}

void require_known(const std::vector<Entry>& table, std::string_view what,
                   std::string_view pattern) {
  for (const auto& e : table)
    if (e.kind != Kind::attribute && e.path == pattern) return;
  throw std::logic_error(std::string(what) + " schema: no object " + std::string(pattern));
}

std::string expand(std::string_view what, std::string_view pattern, Table::Values values) {
  std::string out;
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '{') {
      out.push_back(pattern[i++]);
      continue;
    }
    const auto close = pattern.find('}', i);
    const auto symbol = pattern.substr(i + 1, close - i - 1);
    bool given = false;
    for (const auto& [name, value] : values)
      if (name == symbol) {
        out.append(value);
        given = true;
        break;
      }
    if (!given)
      throw std::logic_error(std::string(what) + " schema: " + std::string(pattern) + " needs {" +
                             std::string(symbol) + "}");
    i = close + 1;
  }
  return out;
}

std::string joined(std::string_view parent, std::string_view name) {
  std::string full(parent == kRoot ? "" : parent);
  return full.append("/").append(name);
}

}  // namespace

std::string Table::path(std::string_view pattern, Values values) const {
  require_known(entries_, what_, pattern);
  return expand(what_, pattern, values);
}

std::string Table::child(std::string_view parent, std::string_view name, Values values) const {
  require_known(entries_, what_, joined(parent, name));
  return expand(what_, name, values);
}

std::string Table::attr(std::string_view object, std::string_view name) const {
  if (!find_in(entries_, object, name))
    throw std::logic_error(std::string(what_) + " schema: no attribute '" + std::string(name) +
                           "' of " + std::string(object));
  return std::string(name);
}

const Entry& Table::dataset(std::string_view parent, std::string_view name) const {
  const std::string full = joined(parent, name);
  const Entry* e = find_in(entries_, full, "");
  if (!e || e->kind != Kind::dataset)
    throw std::logic_error(std::string(what_) + " schema: no dataset " + full);
  return *e;
}

const Entry* find(std::string_view path, std::string_view attribute) {
  return find_in(entries(), path, attribute);
}

namespace {
const Table& results() {
  static const Table table("results", entries());
  return table;
}
}  // namespace

std::string path(std::string_view pattern, Table::Values values) {
  return results().path(pattern, values);
}

std::string child(std::string_view parent, std::string_view name, Table::Values values) {
  return results().child(parent, name, values);
}

std::string attr(std::string_view object, std::string_view name) {
  return results().attr(object, name);
}

const Entry& dataset(std::string_view parent, std::string_view name) {
  return results().dataset(parent, name);
}

std::vector<std::uint64_t> shape(const Entry& e, const Sizes& sizes) {
  std::vector<std::uint64_t> out;
  for (const char c : e.shape) {
    switch (c) {
      case 'M':
        out.push_back(sizes.M);
        break;
      case 'K':
        out.push_back(sizes.K);
        break;
      case 'L':
        out.push_back(sizes.L);
        break;
      case 'P':
        out.push_back(sizes.P);
        break;
      default:
        if (c >= '0' && c <= '9') out.push_back(static_cast<std::uint64_t>(c - '0'));
    }
  }
  return out;
}

nlohmann::ordered_json entries_json(const std::vector<Entry>& entries) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& e : entries) {
    nlohmann::ordered_json j;
    j["kind"] = std::string(kind_name(e.kind));
    j["path"] = std::string(e.path);
    if (e.kind == Kind::attribute) j["attribute"] = std::string(e.attribute);
    if (e.kind != Kind::group) {
      j["dtype"] = std::string(e.dtype);
      j["shape"] = std::string(e.shape);
    }
    j["optional"] = e.optional;
    j["doc"] = std::string(e.doc);
    list.push_back(std::move(j));
  }
  return list;
}

std::string to_json() {
  nlohmann::ordered_json doc;
  doc["format"] = kResultsFormat;
  doc["generated_by"] = "prh-schema-json (src/schema/results_schema.cpp); do not edit";
  doc["symbols"] = {{"M", "models (/models)"},
                    {"K", "configurations (/configurations)"},
                    {"L", "levels of a sweep"},
                    {"Lmax", "the most layers of any model (/layers attr max_layers)"},
                    {"G", "points of the depth grid (/layer_profile/depths)"},
                    {"P", "model pairs (M(M+1)/2 for alignment done, else M(M-1)/2)"}};
  doc["entries"] = entries_json(entries());
  doc["tables"] = export_tables_json();  // prh export's tables: {name: [columns]}
  return doc.dump(1) + "\n";
}

}  // namespace prh::schema
