#pragma once
// `prh status CONFIG`: the SLURM jobs of `prh submit` (if any), the job
// array's parts waiting to be merged, done/total work items per image set
// and model, and the reduction's progress per image set.

#include <iosfwd>

#include "prh/config/config.hpp"

namespace prh::pipeline {

void print_status(std::ostream& os, const config::Sweep& sweep);

}  // namespace prh::pipeline
