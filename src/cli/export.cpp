// `prh export RESULTS --out DIR`: a results file as tidy CSV or JSON tables.

#include <memory>
#include <string>

#include "command.hpp"
#include "prh/core/error.hpp"
#include "prh/pipeline/export.hpp"

namespace prh::cli {

Command add_export(CLI::App& app) {
  struct Args {
    std::string file, format = "csv", out;
  };
  auto args = std::make_shared<Args>();
  auto* export_cmd = app.add_subcommand(
      "export", "Write a results file (results.h5) as tidy CSV or JSON tables, one per file");
  export_cmd->add_option("RESULTS", args->file, "results file (results.h5)")->required();
  export_cmd->add_option("--format", args->format, "csv (default) or json")
      ->check(CLI::IsMember({"csv", "json"}));
  export_cmd->add_option("--out", args->out, "output directory (created)")->required();
  return {export_cmd, [args](int*, char***) {
            prh::pipeline::export_results(args->file, args->format, args->out);
            return prh::kExitOk;
          }};
}

}  // namespace prh::cli
