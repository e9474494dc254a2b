#pragma once
// `prh submit CONFIG`: the sweep as three chained SLURM batch jobs, embed ->
// reduce -> report (jobs/embed.sbatch, reduce.sbatch, report.sbatch rendered
// with the site's #SBATCH options into <store dir>/slurm/), each starting only
// after the previous one completed (--dependency=afterok). The job ids are
// recorded in <store>.jobs.json, which `prh status` reads to show each job's
// SLURM state (scontrol show job). No MPI: submit only talks to sbatch.
// With --array the embed job is a job array whose tasks write part files
// (docs/store.md "Job arrays"); the reduce job then runs `prh run`, which
// merges them first.

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "prh/config/config.hpp"

namespace prh::pipeline {

struct SubmitOptions {
  std::string config;  // the config file as given (made absolute for the jobs)
  std::string partition, account, time;
  int nodes = 0, ntasks = 0;              // 0: the templates' defaults
  int gpus_per_node = -1;                 // -1: none asked for
  std::vector<std::string> sbatch_lines;  // "--qos=x" or "#SBATCH --qos=x"
  std::string jobs_dir;                   // the templates ("": jobs/, else P/share/prh/jobs)
  std::string prh;                        // the prh binary for the jobs (default: this one)
  // "N" or "N%M": the embed stage as a job array of N tasks (at most M at a
  // time), each with --ntasks ranks (default 1), writing part files that the
  // reduce job merges (`prh run`). "": one MPI job.
  std::string array;
  bool dry_run = false;
};

// Renders, writes and submits the three jobs; prints "NAME ID" lines on `out`.
// Throws InputError (exit 2) for a missing template, missing or failing sbatch.
void submit(const config::Sweep& sweep, const SubmitOptions& opt, std::ostream& out);

// One rendered job script (exposed for tests and --dry-run).
std::string render_job(const std::string& template_text, const std::vector<std::string>& sbatch,
                       const std::vector<std::string>& exports);

// --array "N" or "N%M" -> (N, M or 0); InputError otherwise.
std::pair<int, int> parse_array(const std::string& spec);

// The path of the jobs record of a store: <store>.jobs.json.
std::string jobs_record_path(const std::string& store);

// For `prh status`: each recorded job's SLURM state, when <store>.jobs.json
// exists (nothing otherwise).
void print_jobs(std::ostream& os, const std::string& store);

}  // namespace prh::pipeline
