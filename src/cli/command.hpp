#pragma once
// The command line's parts (src/cli): one file per command. Each `add_*`
// declares its subcommand on the app (options, help) and returns how to run
// it once chosen; main.cpp only builds the app, parses and dispatches.
// prh and prh-models compile the same files; PRH_LEAN (prh) leaves out what
// runs models (main.cpp hands those commands to prh-models before parsing).

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace prh::parallel {
class Session;
}

namespace prh::cli {

// The most threads a flag may ask for, as `threads_per_rank` in a config.
constexpr int kMaxThreads = 1024;

// One subcommand: where CLI11 records that it was chosen, and what runs it
// (empty where this executable hands it to the other one: PRH_LEAN). `run`
// gets main's argc/argv for the MPI session; it returns the exit code.
struct Command {
  const CLI::App* chosen = nullptr;
  std::function<int(int* argc, char*** argv)> run;
};

// In the order of `prh --help`.
Command add_compare(CLI::App& app);
std::vector<Command> add_stages(CLI::App& app);  // embed, reduce, run
Command add_status(CLI::App& app);
Command add_export(CLI::App& app);
Command add_report(CLI::App& app);
Command add_zoo(CLI::App& app);
Command add_validate(CLI::App& app);
Command add_submit(CLI::App& app);

// Runs `body` in an MPI session with per-rank logging and the stop handlers,
// turning its outcome into the exit code: a stop request (agreed by every
// rank) is 75, bad input 2 and anything else 1; one rank's failure ends the
// whole job (finished work is already safe).
int in_session(int* argc, char*** argv,
               const std::function<void(const prh::parallel::Session&)>& body);

// Test hook (docs/testing.md): PRH_TEST_REDUCE_BACKEND=torch-cpu makes a
// reduce with reduce_device: cpu run its heavy steps through the LibTorch
// backend on LibTorch's CPU device, so that reduce's device path is tested
// where there is no GPU.
bool torch_cpu_hook();

#ifdef PRH_LEAN
// The commands that run models, read images or use LibTorch's devices
// (embed, run, zoo, validate; compare and reduce on a GPU): prh-models does
// them.
bool is_model_command(int argc, char** argv);

// Replaces this process with prh-models (beside this executable, or
// $PRH_MODELS) with the same arguments.
[[noreturn]] void exec_models(char** argv);
#endif

}  // namespace prh::cli
