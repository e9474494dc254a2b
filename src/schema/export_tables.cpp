#include "export_tables.hpp"

#include <stdexcept>

namespace prh::schema {

const std::vector<ExportTable>& export_tables() {
  static const std::vector<ExportTable> tables = {
      {"alignment",
       {"set", "configuration", "metric", "model_a", "model_b", "i", "j", "self", "score",
        "score_ba", "layer_a", "layer_b", "layer_a_ba", "layer_b_ba"}},
      {"correlations",
       {"set", "method", "config_a", "config_b", "r", "p", "n", "ci_low", "ci_high", "mantel_p",
        "null_mean", "null_q95", "null_p"}},
      {"calibration",
       {"set", "configuration", "model_a", "model_b", "i", "j", "permutations", "alpha", "pvalue",
        "qvalue", "threshold", "calibrated", "null_mean", "null_sd"}},
      {"accuracy_correlation", {"set", "method", "configuration", "r", "p", "n"}},
      {"predictions", {"set", "model", "accuracy", "mean_prob", "mean_prob_wrong"}},
      {"agreement",
       {"set", "model_a", "model_b", "agreement", "both_wrong", "agreement_both_wrong"}},
      {"comparison",
       {"set_a", "set_b", "method", "config_a", "config_b", "r_a", "r_b", "diff", "ci_low",
        "ci_high", "p"}},
      {"sweeps",
       {"sweep",
        "family",
        "base",
        "parameter",
        "level",
        "set",
        "configuration",
        "mean",
        "mean_ci_low",
        "mean_ci_high",
        "calibrated_mean",
        "significant_fraction",
        "significant_ci_low",
        "significant_ci_high",
        "breaking_level",
        "breaking_level_low",
        "breaking_level_high",
        "breaking_agreement",
        "images",
        "relative_calibrated",
        "relative_calibrated_ci_low",
        "relative_calibrated_ci_high",
        "relative_breaking_level",
        "relative_breaking_level_low",
        "relative_breaking_level_high",
        "relative_breaking_agreement",
        "chance_share"}},
      {"sweep_correlations",
       {"sweep", "method", "config_a", "config_b", "test", "correlation_breaking_level"}},
      {"models", {"i", "model", "training_data", "family", "objective", "classes"}},
      {"groups",
       {"set", "factor", "configuration", "within", "within_ci_low", "within_ci_high", "across",
        "across_ci_low", "across_ci_high", "gap", "gap_ci_low", "gap_ci_high", "n_within",
        "n_across", "effect", "effect_ci_low", "effect_ci_high", "effect_pvalue", "effect_qvalue"}},
      {"groups_correlations",
       {"set", "correlation", "config_a", "config_b", "r", "p", "n", "ci_low", "ci_high"}},
      {"layers",
       {"set", "configuration", "model_a", "model_b", "i", "j", "layer_a", "layer_b", "score"}},
  };
  return tables;
}

std::vector<std::string> columns(std::string_view name) {
  for (const auto& t : export_tables())
    if (t.name == name) return {t.columns.begin(), t.columns.end()};
  throw std::logic_error("export tables: no table " + std::string(name));
}

nlohmann::ordered_json export_tables_json() {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& t : export_tables()) {
    auto& cols = out[std::string(t.name)] = nlohmann::ordered_json::array();
    for (const auto c : t.columns) cols.push_back(std::string(c));
  }
  return out;
}

}  // namespace prh::schema
