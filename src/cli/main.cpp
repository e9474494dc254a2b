// prh: the command-line entry point. Builds the app from the commands (one
// file each, command.hpp), parses and dispatches; the work lives in the
// pipeline layer.

#include <filesystem>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "prh/core/error.hpp"
#include "prh/core/log.hpp"
#include "prh/core/memory.hpp"
#include "prh/core/version.hpp"
#include "prh/parallel/signals.hpp"
#include "prh/store/hdf5_library.hpp"

namespace {

// An unknown first word is named (CLI11 would only say that a subcommand is
// required): the error, or "" when the first word is a command or an option.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return {};
  std::string names;
  bool known = false;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    known = known || sub->get_name() == argv[1];
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  if (known) return {};
  return fmt::format("prh: unknown command '{}' (commands: {}; prh --help)",
                     prh::utf8_escaped(argv[1]), names);
}

}  // namespace

int main(int argc, char** argv) {
  prh::keep_freed_memory();  // before any allocation worth keeping
#ifdef PRH_LEAN
  // LibTorch and OpenCV live in prh-models.
  if (prh::cli::is_model_command(argc, argv)) prh::cli::exec_models(argv);
#endif
  prh::parallel::install_usr1_handler();  // first: a job script may forward USR1 at any time
  prh::log::init("prh");
  CLI::App app{"prh: how alike are the representations of many neural networks?", "prh"};
  app.set_version_flag("--version",
                       std::string("prh ") + prh::kVersion +
                           (prh::store::parallel_hdf5() ? " (parallel HDF5)" : " (serial HDF5)"));
  app.require_subcommand(1);

  std::vector<prh::cli::Command> commands{prh::cli::add_compare(app)};
  for (auto& stage : prh::cli::add_stages(app)) commands.push_back(std::move(stage));
  for (auto* add : {prh::cli::add_status, prh::cli::add_export, prh::cli::add_report,
                    prh::cli::add_zoo, prh::cli::add_validate, prh::cli::add_submit})
    commands.push_back(add(app));

  if (const auto error = unknown_command(app, argc, argv); !error.empty()) {
    spdlog::error("{}", error);
    return prh::kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return prh::kExitBadInput;
  }

  try {
    for (const auto& command : commands)
      if (*command.chosen && command.run) return command.run(&argc, &argv);
  } catch (const prh::InputError& e) {
    spdlog::error("{}", e.what());
    return prh::kExitBadInput;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the user gave that cannot be made or written (as in_session).
    spdlog::error("{}", e.what());
    return prh::kExitBadInput;
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return prh::kExitInternal;
  }
  return prh::kExitOk;
}
