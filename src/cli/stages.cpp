// The MPI stages: `prh embed`, `prh reduce` and `prh run` (embed, then
// reduce).

#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "command.hpp"
#include "prh/config/config.hpp"
#include "prh/core/error.hpp"
#include "prh/core/threads.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/pipeline/embed.hpp"
#include "prh/pipeline/reduce.hpp"

#ifndef PRH_LEAN
#include "prh/accel/torch_backend.hpp"
#endif

namespace prh::cli {
namespace {

struct StageArgs {
  std::string config;
  bool embed = false, reduce = false;
  prh::pipeline::EmbedOptions embed_opt;
  prh::pipeline::ReduceOptions reduce_opt;
};

int run_stages(const StageArgs& args, int* argc, char*** argv) {
  return in_session(argc, argv, [&](const prh::parallel::Session& session) {
    const auto sweep = prh::config::load(args.config);
    prh::configure_threads(sweep.threads_per_rank);
    auto reduce_opt = args.reduce_opt;
#ifndef PRH_LEAN  // the lean prh hands embed and run to prh-models (main)
    // reduce_device: cuda: the backend first, so that a missing GPU is
    // reported before any work (before embedding, before the results file).
    std::unique_ptr<prh::metrics::Backend> backend;
    if (args.reduce && (sweep.reduce_device != "cpu" || torch_cpu_hook())) {
      backend = prh::accel::make_torch_backend(
          {sweep.reduce_device,
           fmt::format("{}: reduce_device: {}", sweep.file, sweep.reduce_device),
           fmt::format("set reduce_device: cpu in {}", sweep.file)},
          session.local_rank());
      reduce_opt.backend = backend.get();
      spdlog::info("reduce: heavy metric steps on {}", backend->name());
    }
    // The embedding's device: checked up front as well (the models are
    // loaded later, some only when their first work item comes).
    if (args.embed)
      prh::accel::check_device({sweep.device,
                                fmt::format("{}: device: {}", sweep.file, sweep.device),
                                fmt::format("set device: cpu in {}", sweep.file)});
    if (args.embed) prh::pipeline::embed(sweep, session, args.embed_opt);
#else  // and reduce with reduce_device: cuda (main)
    PRH_CHECK_INPUT(sweep.reduce_device == "cpu",
                    "{}: reduce_device: {} runs in prh-models, which this prh did not start "
                    "(build the target prh-models beside prh, or set PRH_MODELS)",
                    sweep.file, sweep.reduce_device);
#endif
    if (args.reduce) prh::pipeline::reduce(sweep, session, reduce_opt);
  });
}

Command stage(CLI::App* sub, std::shared_ptr<StageArgs> args) {
  return {sub, [args](int* argc, char*** argv) { return run_stages(*args, argc, argv); }};
}

}  // namespace

std::vector<Command> add_stages(CLI::App& app) {
  auto embed_args = std::make_shared<StageArgs>();
  auto reduce_args = std::make_shared<StageArgs>();
  auto run_args = std::make_shared<StageArgs>();
  embed_args->embed = true;
  reduce_args->reduce = true;
  run_args->embed = run_args->reduce = true;
  auto* embed = app.add_subcommand(
      "embed", "Embed every image set with every model into the store (MPI; resumable)");
  embed->add_option("CONFIG", embed_args->config, "sweep config (YAML)")->required();
  auto* array_task =
      embed
          ->add_option("--array-task", embed_args->embed_opt.array_task,
                       "job-array mode: embed task I's share of the work items into part files "
                       "(STORE.parts), not the store; a later plain `prh embed` merges them")
          ->check(CLI::Range(0, 1 << 30).description("in 0..N-1"));
  auto* array_size = embed
                         ->add_option("--array-size", embed_args->embed_opt.array_size,
                                      "job-array mode: the number of tasks N (I in 0..N-1)")
                         ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  array_task->needs(array_size);
  array_size->needs(array_task);
  auto* reduce = app.add_subcommand(
      "reduce",
      "Alignment matrices, correlations and prediction agreement from the store into the "
      "results file (MPI; resumable)");
  auto* run = app.add_subcommand("run", "embed, then reduce, in one job (MPI; resumes either)");
  for (auto [cmd, a] : {std::pair{reduce, reduce_args.get()}, std::pair{run, run_args.get()}}) {
    cmd->add_option("CONFIG", a->config, "sweep config (YAML)")->required();
    cmd->add_flag(
        "--partial", a->reduce_opt.partial,
        "reduce what is complete: leave out (NaN) models whose embeddings are unfinished");
    cmd->add_flag("--keep-cache", a->reduce_opt.keep_cache,
                  "keep the preparation cache (RESULTS.prep.h5) after completion");
  }
  return {stage(embed, embed_args), stage(reduce, reduce_args), stage(run, run_args)};
}

}  // namespace prh::cli
