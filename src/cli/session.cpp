// The MPI session of the stage commands and its exit codes (command.hpp).

#include <cstdlib>
#include <filesystem>
#include <string>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "prh/core/error.hpp"
#include "prh/core/log.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/parallel/signals.hpp"

namespace prh::cli {

bool torch_cpu_hook() {
  const char* hook = std::getenv("PRH_TEST_REDUCE_BACKEND");
  return hook != nullptr && std::string(hook) == "torch-cpu";
}

int in_session(int* argc, char*** argv,
               const std::function<void(const prh::parallel::Session&)>& body) {
  prh::parallel::Session session(argc, argv);
  spdlog::drop_all();
  prh::log::init(session.size() > 1 ? fmt::format("rank {}/{}", session.rank(), session.size())
                                    : std::string("prh"));
  try {
    prh::parallel::install_stop_handlers();
    body(session);
    return prh::kExitOk;
  } catch (const prh::Stopped& e) {
    if (session.root())
      spdlog::warn("{}: stopped on request; finished work is saved, run again to resume", e.what());
    return prh::kExitStopped;
  } catch (const prh::InputError& e) {
    spdlog::error("{}", e.what());
    if (session.size() > 1) session.abort(prh::kExitBadInput);
    return prh::kExitBadInput;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the user gave that cannot be made or written (permissions, a
    // file where a folder should be, a full disk): not a bug of prh.
    spdlog::error("{}", e.what());
    if (session.size() > 1) session.abort(prh::kExitBadInput);
    return prh::kExitBadInput;
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    if (session.size() > 1) session.abort(prh::kExitInternal);
    return prh::kExitInternal;
  }
}

}  // namespace prh::cli
