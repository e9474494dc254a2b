// `prh validate CONFIG`: every problem of a sweep config, nothing computed.
// Runs in prh-models (prh hands `validate` over before parsing).

#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include "prh/pipeline/validate.hpp"

#ifndef PRH_LEAN
#include "prh/accel/torch_backend.hpp"
#endif

namespace prh::cli {

Command add_validate(CLI::App& app) {
  struct Args {
    std::string config;
    prh::pipeline::ValidateOptions opt;
  };
  auto args = std::make_shared<Args>();
  auto* validate = app.add_subcommand(
      "validate", "Check a sweep config without computing anything; list every problem");
  validate->add_option("CONFIG", args->config, "sweep config (YAML)")->required();
  validate->add_flag_callback(
      "--no-paths", [args] { args->opt.check_paths = false; },
      "check only the config itself: no model, sidecar, image or output path is looked at");
#ifdef PRH_LEAN
  return {validate, nullptr};
#else
  return {validate, [args](int*, char***) {
            args->opt.cuda_usable = prh::accel::cuda_usable();
            return prh::pipeline::run_validate(args->config, args->opt, std::cout, std::cerr);
          }};
#endif
}

}  // namespace prh::cli
