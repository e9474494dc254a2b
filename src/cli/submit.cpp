// `prh submit CONFIG`: the sweep as three chained SLURM jobs (no MPI).

#include <iostream>
#include <memory>

#include "command.hpp"
#include "prh/config/config.hpp"
#include "prh/core/error.hpp"
#include "prh/pipeline/submit.hpp"

namespace prh::cli {

Command add_submit(CLI::App& app) {
  auto opt = std::make_shared<prh::pipeline::SubmitOptions>();
  auto* submit = app.add_subcommand(
      "submit",
      "Submit the sweep to SLURM as three chained jobs: embed -> reduce -> report (no MPI)");
  submit->add_option("CONFIG", opt->config, "sweep config (YAML)")->required();
  submit->add_option("--partition", opt->partition, "sbatch --partition (all jobs)");
  submit->add_option("--account", opt->account, "sbatch --account (all jobs)");
  submit->add_option("--time", opt->time, "sbatch --time (embed and reduce)");
  submit->add_option("--nodes", opt->nodes, "sbatch --nodes (embed and reduce)")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  submit->add_option("--ntasks", opt->ntasks, "MPI ranks: sbatch --ntasks (embed, reduce)")
      ->check(CLI::Range(1, 1 << 30).description(">= 1"));
  submit
      ->add_option("--gpus-per-node", opt->gpus_per_node,
                   "sbatch --gpus-per-node (embed and reduce)")
      ->check(CLI::Range(0, 1 << 30).description(">= 0"));
  submit
      ->add_option("--sbatch", opt->sbatch_lines,
                   "another sbatch option for all jobs, e.g. --sbatch=--qos=normal (repeatable)")
      ->allow_extra_args(false);
  submit->add_option("--jobs-dir", opt->jobs_dir,
                     "directory of the job templates embed/reduce/report.sbatch (default: jobs, "
                     "else the installed ones, PREFIX/share/prh/jobs)");
  submit->add_option("--prh", opt->prh, "the prh binary the jobs run (default: this one)");
  submit->add_option("--array", opt->array,
                     "run embed as a job array of N tasks (N%M: at most M at once), each with "
                     "--ntasks ranks (default 1), writing part files the reduce job merges");
  submit->add_flag("--dry-run", opt->dry_run, "print the rendered scripts; submit nothing");
  return {submit, [opt](int*, char***) {
            prh::pipeline::submit(prh::config::load(opt->config), *opt, std::cout);
            return prh::kExitOk;
          }};
}

}  // namespace prh::cli
