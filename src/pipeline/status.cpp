#include "prh/pipeline/status.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <ostream>

#include <fmt/format.h>

#include "prh/pipeline/submit.hpp"
#include "prh/store/embedding_store.hpp"
#include "prh/store/results_reader.hpp"
#include "prh/store/results_store.hpp"

namespace prh::pipeline {

void print_status(std::ostream& os, const config::Sweep& sweep) {
  print_jobs(os, sweep.store);  // SLURM jobs of `prh submit`, if any
  const auto parts = store::list_parts(sweep.store);
  if (!parts.empty()) {
    os << fmt::format(
        "parts {}: {} work items embedded by a job array (or by the ranks of a serial-HDF5 "
        "prh), not merged yet (`prh embed {}` or `prh run` merges them)\n",
        store::parts_dir(sweep.store), parts.size(), sweep.file);
    // Per image set and model (the parts tree is SET/MODEL/SHARD.h5).
    std::map<std::pair<std::string, std::string>, int> per;
    for (const auto& p : parts) {
      const std::filesystem::path path(p);
      ++per[{path.parent_path().parent_path().filename().string(),
             path.parent_path().filename().string()}];
    }
    os << fmt::format("{:<24} {:<24} {:>12}\n", "image set", "model", "parts");
    for (const auto& [key, n] : per)
      os << fmt::format("{:<24} {:<24} {:>12}\n", key.first, key.second, n);
  }
  if (!std::filesystem::exists(sweep.store)) {
    os << fmt::format("store {}: not created yet (`prh embed`)\n", sweep.store);
    return;
  }
  const auto summary = store::read_summary(sweep.store);
  os << fmt::format("store {} (config {})\n", sweep.store, summary.config_file);
  os << fmt::format("{:<24} {:<24} {:>12}\n", "image set", "model", "shards done");
  std::int64_t done = 0, total = 0;
  for (const auto& p : summary.items) {
    os << fmt::format("{:<24} {:<24} {:>5}/{:<6}{}\n", p.set, p.model, p.done, p.total,
                      p.done == p.total ? "" : "  (incomplete)");
    done += p.done;
    total += p.total;
  }
  os << fmt::format("total: {}/{} work items done{}\n", done, total,
                    done == total ? "" : "; run `prh embed` again to finish");
  if (!std::filesystem::exists(sweep.results)) {
    os << fmt::format("results {}: not started (`prh reduce`)\n", sweep.results);
    return;
  }
  const auto r = store::read_results(sweep.results);
  os << fmt::format("results {}: {}\n", sweep.results,
                    r.complete ? "complete" : "incomplete; run `prh reduce` again to finish");
  // A serial-HDF5 reduce (docs/store.md): finished units wait in journals
  // until rank 0 merges them at the end of the stage (or the next run).
  const auto waiting = store::journal_units(sweep.results);
  const auto prepared = store::journal_units(store::prep_cache_path(sweep.results));
  if (waiting + prepared > 0)
    os << fmt::format(
        "journals: {} scored or calibrated (pair, configuration) units and {} prepared "
        "representations finished but not merged yet (a serial-HDF5 `prh reduce` running, or "
        "cut off: the next one merges them first); not counted below\n",
        waiting, prepared);
  os << fmt::format("{:<24} {:>14} {:>16}\n", "image set", "configurations", "model pairs done");
  for (const auto& s : r.sets) {
    std::int64_t pairs = 0, all_done = -1;
    for (const auto& c : s.configurations) {
      pairs = static_cast<std::int64_t>(c.done.size());
      const auto d = std::count(c.done.begin(), c.done.end(), std::uint8_t{1});
      all_done = all_done < 0 ? d : std::min<std::int64_t>(all_done, d);
    }
    os << fmt::format("{:<24} {:>14} {:>9}/{:<6}\n", s.name, s.configurations.size(),
                      std::max<std::int64_t>(all_done, 0), pairs);
  }
}

}  // namespace prh::pipeline
