// prh: the command-line entry point. Parses arguments and dispatches; the
// work lives in the pipeline layer.

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "prh/config/config.hpp"
#include "prh/core/error.hpp"
#include "prh/core/log.hpp"
#include "prh/core/threads.hpp"
#include "prh/core/version.hpp"
#include "prh/parallel/mpi.hpp"
#include "prh/parallel/signals.hpp"
#include "prh/pipeline/compare.hpp"
#include "prh/pipeline/embed.hpp"
#include "prh/pipeline/export.hpp"
#include "prh/pipeline/reduce.hpp"
#include "prh/pipeline/report.hpp"
#include "prh/pipeline/status.hpp"
#include "prh/pipeline/submit.hpp"
#include "prh/pipeline/validate.hpp"
#include "prh/pipeline/zoo.hpp"
#include "prh/store/hdf5_library.hpp"

#ifndef PRH_LEAN
#include "prh/accel/torch_backend.hpp"
#endif

#ifdef PRH_LEAN
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#endif

namespace {

// The most threads a flag may ask for, as `threads_per_rank` in a config.
constexpr int kMaxThreads = 1024;

struct CompareArgs {
  std::string a, b;
  std::vector<std::string> metrics;
  bool no_clamp = false, no_normalize = false, clamp_exact = false, last_layer = false;
  bool json = false;
  double q = 0.95;
  int threads = 0;
  std::string device = "cpu";
};

int run_compare(const CompareArgs& args) {
  prh::pipeline::CompareOptions opt;
  opt.metrics = args.metrics;
  opt.pre.clamp = !args.no_clamp;
  opt.pre.q = args.q;
  opt.pre.exact = args.clamp_exact;
  opt.pre.normalize = !args.no_normalize;
  opt.last_layer = args.last_layer;
  PRH_CHECK_INPUT(args.q > 0 && args.q <= 1, "--clamp-q must be in (0, 1], got {}", args.q);
  // Bounded as threads_per_rank is: OpenMP crashes on a team of 100000.
  PRH_CHECK_INPUT(args.threads >= 0 && args.threads <= kMaxThreads,
                  "--threads must be in 0..{} (0: all cores), got {}", kMaxThreads, args.threads);
  prh::configure_threads(args.threads);
  opt.device = args.device;
  if (args.device != "cpu") {
#ifdef PRH_LEAN
    // main() hands `compare --device cuda` to prh-models before parsing.
    throw prh::InputError(fmt::format(
        "--device {}: runs in prh-models, which this prh did not start (build the target "
        "prh-models beside prh, or set PRH_MODELS)",
        args.device));
#else
    // Before the inputs are read: a missing GPU is reported before any work.
    const prh::accel::DeviceRequest request{args.device, "--device " + args.device,
                                            "use --device cpu"};
    prh::accel::check_device(request);
    opt.make_backend = [request] { return prh::accel::make_torch_backend(request, 0); };
#endif
  }
  const auto a = prh::store::parse_dataset_ref(args.a);
  const auto b = prh::store::parse_dataset_ref(args.b);
  const auto result = prh::pipeline::compare(a, b, opt);
  if (args.json)
    std::cout << prh::pipeline::to_json(result).dump() << std::endl;
  else
    prh::pipeline::print_table(std::cout, result, a, b);
  return prh::kExitOk;
}

// Test hook (docs/testing.md): PRH_TEST_REDUCE_BACKEND=torch-cpu makes a
// reduce with reduce_device: cpu run its heavy steps through the LibTorch
// backend on LibTorch's CPU device, so that reduce's device path is tested
// where there is no GPU.
bool torch_cpu_hook() {
  const char* hook = std::getenv("PRH_TEST_REDUCE_BACKEND");
  return hook != nullptr && std::string(hook) == "torch-cpu";
}

// The MPI stages: embed, reduce, or both (run).
struct StageArgs {
  std::string config;
  bool embed = false, reduce = false;
  prh::pipeline::EmbedOptions embed_opt;
  prh::pipeline::ReduceOptions reduce_opt;
};

// Runs `body` in an MPI session with per-rank logging and the stop handlers,
// turning its outcome into the exit code: a stop request (agreed by every
// rank) is 75, bad input 2 and anything else 1; one rank's failure ends the
// whole job (finished work is already safe).
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

#ifndef PRH_LEAN
int run_zoo(const prh::pipeline::ZooOptions& opt, int* argc, char*** argv) {
  return in_session(argc, argv, [&](const prh::parallel::Session& session) {
    prh::configure_threads(opt.threads);
    prh::pipeline::train_zoo(opt, session);
  });
}
#endif

#ifdef PRH_LEAN
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

// The commands that run models, read images or use LibTorch's devices:
// prh-models does them.
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

// Replaces this process with prh-models (beside this executable, or
// $PRH_MODELS) with the same arguments. Before MPI starts, so the MPI
// launcher's environment passes on unchanged; same process id, so mpirun,
// srun and signals see one process.
[[noreturn]] void exec_models(char** argv) {
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
#endif

}  // namespace

int main(int argc, char** argv) {
#ifdef PRH_LEAN
  if (is_model_command(argc, argv)) exec_models(argv);  // LibTorch and OpenCV live there
#endif
  prh::parallel::install_usr1_handler();  // first: a job script may forward USR1 at any time
  prh::log::init("prh");
  CLI::App app{"prh: how alike are the representations of many neural networks?", "prh"};
  app.set_version_flag("--version",
                       std::string("prh ") + prh::kVersion +
                           (prh::store::parallel_hdf5() ? " (parallel HDF5)" : " (serial HDF5)"));
  app.require_subcommand(1);

  CompareArgs cmp;
  auto* compare = app.add_subcommand(
      "compare", "Score two models' features (HDF5 datasets [N, D] or [N, L, D]) under metrics");
  compare->add_option("A", cmp.a, "features of model A: FILE.h5:/path/to/dataset")->required();
  compare->add_option("B", cmp.b, "features of model B: FILE.h5:/path/to/dataset")->required();
  compare->add_option("--metric,-m", cmp.metrics,
                      "metric configuration, e.g. mutual_knn:k=10, cka:kernel=rbf,sigma=0.5 "
                      "(repeatable; default: all eight metrics at their defaults)");
  compare->add_flag("--no-clamp", cmp.no_clamp, "disable the outlier clamp");
  compare->add_option("--clamp-q", cmp.q, "quantile of the outlier clamp (default 0.95)");
  compare->add_flag("--clamp-exact", cmp.clamp_exact,
                    "clamp at the global order statistic instead of the mean row quantile");
  compare->add_flag("--no-normalize", cmp.no_normalize, "disable L2 normalisation of rows");
  compare->add_flag("--last-layer", cmp.last_layer, "compare last layers only (no layer maximum)");
  compare->add_flag("--json", cmp.json, "print one JSON object on stdout");
  compare->add_option("--threads", cmp.threads,
                      "threads (0: all cores, or OMP_NUM_THREADS); results do not depend on it");
  compare
      ->add_option("--device", cmp.device,
                   "where the heavy metric steps run: cpu (default) or cuda (GPU 0 of those "
                   "visible; runs in prh-models; values agree with cpu within docs/gpu.md's "
                   "tolerance)")
      ->check(CLI::IsMember({"cpu", "cuda"}));

  std::string status_config;
  StageArgs embed_args, reduce_args, run_args;
  embed_args.embed = true;
  reduce_args.reduce = true;
  run_args.embed = run_args.reduce = true;
  auto* embed = app.add_subcommand(
      "embed", "Embed every image set with every model into the store (MPI; resumable)");
  embed->add_option("CONFIG", embed_args.config, "sweep config (YAML)")->required();
  auto* array_task =
      embed
          ->add_option("--array-task", embed_args.embed_opt.array_task,
                       "job-array mode: embed task I's share of the work items into part files "
                       "(STORE.parts), not the store; a later plain `prh embed` merges them")
          ->check(CLI::Range(0, 1 << 30).description("in 0..N-1"));
  auto* array_size = embed
                         ->add_option("--array-size", embed_args.embed_opt.array_size,
                                      "job-array mode: the number of tasks N (I in 0..N-1)")
                         ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  array_task->needs(array_size);
  array_size->needs(array_task);
  auto* reduce = app.add_subcommand(
      "reduce",
      "Alignment matrices, correlations and prediction agreement from the store into the "
      "results file (MPI; resumable)");
  auto* run = app.add_subcommand("run", "embed, then reduce, in one job (MPI; resumes either)");
  for (auto [cmd, a] : {std::pair{reduce, &reduce_args}, std::pair{run, &run_args}}) {
    cmd->add_option("CONFIG", a->config, "sweep config (YAML)")->required();
    cmd->add_flag(
        "--partial", a->reduce_opt.partial,
        "reduce what is complete: leave out (NaN) models whose embeddings are unfinished");
    cmd->add_flag("--keep-cache", a->reduce_opt.keep_cache,
                  "keep the preparation cache (RESULTS.prep.h5) after completion");
  }
  auto* status = app.add_subcommand("status", "Show what is done and what is left in the store");
  status->add_option("CONFIG", status_config, "sweep config (YAML)")->required();
  prh::pipeline::StatusOptions status_opt;
  status->add_flag("-v,--verbose", status_opt.verbose,
                   "also every (image set, model) and every image set's reduce progress");
  status->add_flag("--json", status_opt.json, "one JSON object (docs/store.md, \"prh status\")");

  std::string export_file, export_format = "csv", export_out;
  auto* export_cmd = app.add_subcommand(
      "export", "Write a results file (results.h5) as tidy CSV or JSON tables, one per file");
  export_cmd->add_option("RESULTS", export_file, "results file (results.h5)")->required();
  export_cmd->add_option("--format", export_format, "csv (default) or json")
      ->check(CLI::IsMember({"csv", "json"}));
  export_cmd->add_option("--out", export_out, "output directory (created)")->required();

  prh::pipeline::ReportOptions report_opt;
  auto* report = app.add_subcommand(
      "report",
      "Write a results file as an offline HTML report: DIR/index.html and DIR/figures/ "
      "(runs tools/prh_report.py with Debian's python3 and matplotlib)");
  report->add_option("RESULTS", report_opt.results, "results file (results.h5)")->required();
  report->add_option("--out", report_opt.out,
                     "output directory (default: RESULTS without .h5, plus -report)");
  report->add_option("--pair", report_opt.pair,
                     "configuration pair of the scatter figure, A,B (default "
                     "mutual_knn@k=10,cknna@k=10)");
  report->add_option("--config", report_opt.configs,
                     "main configuration for the alignment matrices (repeatable)");
  report->add_option("--method", report_opt.method, "correlation method shown (default spearman)");
  report->add_option("--alpha", report_opt.alpha, "significance level (default 0.05)")
      ->check(CLI::Range(0.0, 1.0));

  prh::pipeline::ZooOptions zoo_opt;
  auto* zoo = app.add_subcommand(
      "zoo", "prh's own model zoo (Fashion-MNIST, generated shapes, photographs)");
  zoo->require_subcommand(1);
  auto* zoo_train = zoo->add_subcommand(
      "train", "Train the zoo's members not yet trained (MPI: members spread over ranks)");
  zoo_train->add_option("--out", zoo_opt.out_dir, "directory for NAME.pt, NAME.yaml, NAME.json")
      ->required();
  zoo_train->add_option("--data", zoo_opt.data_dir, "Fashion-MNIST IDX directory");
  zoo_train->add_option("--photos", zoo_opt.photo_dir,
                        "photographs of the natural members (python3-skimage's skimage/data)");
  zoo_train->add_option("--only", zoo_opt.only, "train only these members (repeatable)");
  zoo_train->add_option("--epochs", zoo_opt.epochs, "override every member's epochs")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  zoo_train
      ->add_option("--train-limit", zoo_opt.train_limit,
                   "use the first N training images of classes 0-4")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  zoo_train->add_option("--test-limit", zoo_opt.test_limit, "use the first N test images")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  zoo_train->add_option("--threads", zoo_opt.threads, "LibTorch threads per rank (default 1)")
      ->check(CLI::Range(1, kMaxThreads).description("1..1024"));

  std::string validate_config;
  prh::pipeline::ValidateOptions validate_opt;
  auto* validate = app.add_subcommand(
      "validate", "Check a sweep config without computing anything; list every problem");
  validate->add_option("CONFIG", validate_config, "sweep config (YAML)")->required();
  validate->add_flag_callback(
      "--no-paths", [&validate_opt] { validate_opt.check_paths = false; },
      "check only the config itself: no model, sidecar, image or output path is looked at");

  prh::pipeline::SubmitOptions submit_opt;
  auto* submit = app.add_subcommand(
      "submit",
      "Submit the sweep to SLURM as three chained jobs: embed -> reduce -> report (no MPI)");
  submit->add_option("CONFIG", submit_opt.config, "sweep config (YAML)")->required();
  submit->add_option("--partition", submit_opt.partition, "sbatch --partition (all jobs)");
  submit->add_option("--account", submit_opt.account, "sbatch --account (all jobs)");
  submit->add_option("--time", submit_opt.time, "sbatch --time (embed and reduce)");
  submit->add_option("--nodes", submit_opt.nodes, "sbatch --nodes (embed and reduce)")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  submit->add_option("--ntasks", submit_opt.ntasks, "MPI ranks: sbatch --ntasks (embed, reduce)")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  submit
      ->add_option("--gpus-per-node", submit_opt.gpus_per_node,
                   "sbatch --gpus-per-node (embed and reduce)")
      ->check(CLI::Range(0, 1 << 30).description(">= 0"));
  submit
      ->add_option("--sbatch", submit_opt.sbatch_lines,
                   "another sbatch option for all jobs, e.g. --sbatch=--qos=normal (repeatable)")
      ->allow_extra_args(false);
  submit->add_option("--jobs-dir", submit_opt.jobs_dir,
                     "directory of the job templates embed/reduce/report.sbatch (default: jobs, "
                     "else the installed ones, PREFIX/share/prh/jobs)");
  submit->add_option("--prh", submit_opt.prh, "the prh binary the jobs run (default: this one)");
  submit->add_option("--array", submit_opt.array,
                     "run embed as a job array of N tasks (N%M: at most M at once), each with "
                     "--ntasks ranks (default 1), writing part files the reduce job merges");
  submit->add_flag("--dry-run", submit_opt.dry_run, "print the rendered scripts; submit nothing");

  // An unknown first word is named (CLI11 would only say that a subcommand
  // is required).
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      spdlog::error("prh: unknown command '{}' (commands: {}; prh --help)",
                    prh::utf8_escaped(argv[1]), names);
      return prh::kExitBadInput;
    }
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
    if (*compare) return run_compare(cmp);
    if (*embed) return run_stages(embed_args, &argc, &argv);
    if (*reduce) return run_stages(reduce_args, &argc, &argv);
    if (*run) return run_stages(run_args, &argc, &argv);
#ifndef PRH_LEAN
    if (*zoo_train) return run_zoo(zoo_opt, &argc, &argv);
#endif
    if (*export_cmd) {
      prh::pipeline::export_results(export_file, export_format, export_out);
      return prh::kExitOk;
    }
    if (*report) return prh::pipeline::run_report(report_opt);
    if (*submit) {
      prh::pipeline::submit(prh::config::load(submit_opt.config), submit_opt, std::cout);
      return prh::kExitOk;
    }
#ifndef PRH_LEAN
    if (*validate) {
      validate_opt.cuda_usable = prh::accel::cuda_usable();
      return prh::pipeline::run_validate(validate_config, validate_opt, std::cout, std::cerr);
    }
#endif
    if (*status) {
      prh::pipeline::print_status(std::cout, prh::config::load(status_config), status_opt);
      return prh::kExitOk;
    }
  } catch (const prh::InputError& e) {
    spdlog::error("{}", e.what());
    return prh::kExitBadInput;
  } catch (const std::filesystem::filesystem_error& e) {
    spdlog::error("{}", e.what());  // a path the user gave (see in_session)
    return prh::kExitBadInput;
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return prh::kExitInternal;
  }
  return prh::kExitOk;
}
