#pragma once
// `prh zoo train --out DIR` (MPI): trains the default zoo (models/zoo.hpp),
// each member on its training distribution (Fashion-MNIST classes 0-4, 5-9 or
// all ten, prh's generated shapes, patches of python3-skimage's photographs;
// docs/zoo.md), members spread over the ranks; a member whose DIR/NAME.pt and DIR/NAME.json exist
// is skipped, so a re-run costs nothing and a killed run redoes only unfinished members.

#include <string>
#include <vector>

namespace prh::parallel {
class Session;
}

namespace prh::pipeline {

struct ZooOptions {
  std::string out_dir;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string photo_dir = "/usr/lib/python3/dist-packages/skimage/data";  // python3-skimage
  std::vector<std::string> only;  // member names; empty: all
  int epochs = 0;                 // > 0: overrides every member's epochs
  std::int64_t train_limit = 0;   // > 0: first N training images of each distribution
  std::int64_t test_limit = 0;    // > 0: first N held-out images
  int threads = 1;                // LibTorch threads per rank
};

// Returns the number of members trained by this run (all ranks).
int train_zoo(const ZooOptions& opt, const parallel::Session& session);

// The zoo's members as config entries (name, path) for OUT_DIR, in zoo order.
std::vector<std::string> zoo_member_names();

}  // namespace prh::pipeline
