#pragma once
// `prh status CONFIG`: what is done and what is left, on one screen.
//
// Default (a summary): the SLURM jobs of `prh submit` (if any); one line per
// image set (models embedded of M, shards of S, images, state); one line per
// reduce stage (prepare, score, calibrate: units done of total; the derived
// tables current, stale or absent, and why); then only what is incomplete
// or cannot go on; and one line saying what the next command would do.
// `verbose` adds the per-(set, model) and per-set tables; `json` prints one
// JSON object instead (fields in docs/store.md, "prh status"). Reads the
// store, the results file, the preparation cache, part files and journals
// (work waiting in them counts as done); loads no model.

#include <iosfwd>

#include "prh/config/config.hpp"

namespace prh::pipeline {

struct StatusOptions {
  bool verbose = false;
  bool json = false;
};

void print_status(std::ostream& os, const config::Sweep& sweep, const StatusOptions& opt = {});

}  // namespace prh::pipeline
