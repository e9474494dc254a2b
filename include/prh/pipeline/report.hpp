#pragma once
// `prh report`: a results file as an offline HTML report (index.html and
// figures/NAME.{svg,png,pdf}). The report is drawn by tools/prh_report.py
// (matplotlib, through tools/prh_results.py) run with Debian's python3; this
// is the thin C++ side that finds the script and the interpreter and runs it.
//
// The script is looked up in $PRH_TOOLS (a directory) when set, else in
// ../share/prh/tools beside the executable (an installed prefix: cmake
// --install), else in the source tree prh was built from, else in ../tools
// beside the executable. The interpreter is $PRH_PYTHON, else /usr/bin/python3.

#include <string>
#include <vector>

namespace prh::pipeline {

struct ReportOptions {
  std::string results;               // results file (results.h5)
  std::string out;                   // output directory ("" = RESULTS without .h5 + "-report")
  std::string pair;                  // "A,B": the configuration pair of the scatter ("" = default)
  std::vector<std::string> configs;  // main configurations of the alignment matrices
  std::string method;                // correlation method shown ("" = spearman)
  double alpha = 0.05;               // significance level
};

// The report script to run: tools/prh_report.py as found above. Throws
// InputError naming every place looked at when it is nowhere.
std::string find_report_script();

// Runs the report script on `opt` with stdout/stderr passed through and
// returns its exit status (0 written; 2 bad input or a missing Python
// package, with one line on stderr). Throws InputError when the results file,
// the interpreter or the script is missing.
int run_report(const ReportOptions& opt);

}  // namespace prh::pipeline
