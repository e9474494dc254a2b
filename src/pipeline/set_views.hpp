// Which image sets are views (docs/store.md, "Views"): shared by `prh embed`,
// which reads a view through its base's rows and never embeds it, and
// `prh validate`, which names the views before anything runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prh/config/config.hpp"
#include "prh/data/image.hpp"

namespace prh::pipeline {

// A set's view: the index of the earlier set whose rows `rows` are its
// images bit for bit, or base < 0 when the set is embedded itself.
struct SetView {
  std::int64_t base = -1;
  std::vector<std::int64_t> rows;
};

// Per image set (config order): the first earlier set, itself not a view,
// whose rows data::view_rows proves are the set's images bit for bit (a
// subsample level, blend 0, a patch shuffle that moves nothing, blend 1
// against its noise set). Never a set that a model gives imported features
// for: that set is imported. A null source (validate: a set with problems)
// is neither a view nor a base. Errors of view_rows propagate, naming the set.
std::vector<SetView> find_set_views(const config::Sweep& sweep,
                                    const std::vector<std::unique_ptr<data::Source>>& sources);

}  // namespace prh::pipeline
