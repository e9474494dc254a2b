// prh (PRH_LEAN) hands the commands that run models to prh-models before
// it parses anything (command.hpp). Compiled into prh only.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "command.hpp"
#include "prh/config/config.hpp"
#include "prh/core/error.hpp"
#include "prh/parallel/signals.hpp"

namespace prh::cli {
namespace {

// `compare ... --device D` / `--device=D` with D other than cpu.
bool compare_on_device(int argc, char** argv, int from) {
  for (int i = from; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--device" && i + 1 < argc) return std::string(argv[i + 1]) != "cpu";
    if (a.rfind("--device=", 0) == 0) return a.substr(9) != "cpu";
  }
  return false;
}

// `reduce CONFIG` whose config asks for reduce_device other than cpu. A
// config that does not load stays with prh, which reports its problems.
bool reduce_on_device(int argc, char** argv, int from) {
  for (int i = from; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.empty() || a[0] == '-') continue;  // reduce's options are flags
    try {
      return prh::config::load(a).reduce_device != "cpu" || torch_cpu_hook();
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

}  // namespace

bool is_model_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.empty() || a[0] == '-') continue;  // --help, --version: prh answers
    if (a == "compare") return compare_on_device(argc, argv, i + 1);
    if (a == "reduce") return reduce_on_device(argc, argv, i + 1);
    return a == "embed" || a == "run" || a == "zoo" || a == "validate";
  }
  return false;
}

// Before MPI starts, so the MPI launcher's environment passes on unchanged;
// same process id, so mpirun, srun and signals see one process.
void exec_models(char** argv) {
  std::string path;
  if (const char* env = std::getenv("PRH_MODELS"); env != nullptr && *env != '\0') {
    path = env;
  } else {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    path = (ec ? std::filesystem::path(argv[0]) : self).parent_path() / "prh-models";
  }
  argv[0] = path.data();
  // A USR1 from here on stays pending until prh-models has its handler.
  prh::parallel::block_usr1();
  ::execv(path.c_str(), argv);
  std::fprintf(stderr,
               "prh: error: cannot start %s (%s): the commands embed, run, zoo and validate, and "
               "compare and reduce on a GPU, run there; build the target prh-models beside prh, "
               "or set PRH_MODELS\n",
               path.c_str(), std::strerror(errno));
  std::exit(prh::kExitInternal);
}

}  // namespace prh::cli
