// `prh report RESULTS`: the offline HTML report (runs tools/prh_report.py).

#include <memory>

#include "command.hpp"
#include "prh/pipeline/report.hpp"

namespace prh::cli {

Command add_report(CLI::App& app) {
  auto opt = std::make_shared<prh::pipeline::ReportOptions>();
  auto* report = app.add_subcommand(
      "report",
      "Write a results file as an offline HTML report: DIR/index.html and DIR/figures/ "
      "(runs tools/prh_report.py with Debian's python3 and matplotlib)");
  report->add_option("RESULTS", opt->results, "results file (results.h5)")->required();
  report->add_option("--out", opt->out,
                     "output directory (default: RESULTS without .h5, plus -report)");
  report->add_option("--pair", opt->pair,
                     "configuration pair of the scatter figure, A,B (default "
                     "mutual_knn@k=10,cknna@k=10)");
  report->add_option("--config", opt->configs,
                     "main configuration for the alignment matrices (repeatable)");
  report->add_option("--method", opt->method, "correlation method shown (default spearman)");
  report->add_option("--alpha", opt->alpha, "significance level (default 0.05)")
      ->check(CLI::Range(0.0, 1.0));
  return {report, [opt](int*, char***) { return prh::pipeline::run_report(*opt); }};
}

}  // namespace prh::cli
