// `prh status CONFIG`: what is done and what is left (no MPI).

#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "prh/config/config.hpp"
#include "prh/core/error.hpp"
#include "prh/pipeline/status.hpp"

namespace prh::cli {

Command add_status(CLI::App& app) {
  struct Args {
    std::string config;
    prh::pipeline::StatusOptions opt;
  };
  auto args = std::make_shared<Args>();
  auto* status = app.add_subcommand("status", "Show what is done and what is left in the store");
  status->add_option("CONFIG", args->config, "sweep config (YAML)")->required();
  status->add_flag("-v,--verbose", args->opt.verbose,
                   "also every (image set, model) and every image set's reduce progress");
  status->add_flag("--json", args->opt.json, "one JSON object (docs/store.md, \"prh status\")");
  return {status, [args](int*, char***) {
            prh::pipeline::print_status(std::cout, prh::config::load(args->config), args->opt);
            return prh::kExitOk;
          }};
}

}  // namespace prh::cli
