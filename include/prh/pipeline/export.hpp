#pragma once
// `prh export`: the results file (docs/results.md) as tidy tables, one file
// per table, that pandas reads directly (pd.read_csv, or
// pd.read_json(orient="records")):
//
//   alignment             set, configuration, metric, model_a, model_b, i, j, self, score,
//                         score_ba, layer_a, layer_b, layer_a_ba, layer_b_ba  (pairs i <= j)
//   correlations          set, method, config_a, config_b, r, p, n, ci_low, ci_high  (a < b)
//   accuracy_correlation  set, method, configuration, r, p, n
//   predictions           set, model, accuracy, mean_prob, mean_prob_wrong
//   agreement             set, model_a, model_b, agreement, both_wrong,
//                         agreement_both_wrong  (i < j)
//   comparison            set_a, set_b, method, config_a, config_b, r_a, r_b, diff, ci_low,
//                         ci_high, p  (a < b)
//
// plus meta.json (results path, format, prh_version, config_hash, models,
// configurations, sets, complete, tables). A pair whose `done` flag is not set
// is exported with NaN scores and layers -1. CSV: RFC 4180 quoting, NaN as an
// empty field, doubles that round-trip, booleans true/false. JSON: an array of
// records, NaN as null.

#include <string>

namespace prh::pipeline {

// Writes every table (header only / [] when the file has no such data) and
// meta.json into `out_dir` (created with its parents) and prints each path
// written on stdout, one per line. `format`: "csv" or "json". An incomplete
// results file is exported with a warning.
void export_results(const std::string& results_path, const std::string& format,
                    const std::string& out_dir);

}  // namespace prh::pipeline
