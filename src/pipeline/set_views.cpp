#include "set_views.hpp"

#include <fmt/format.h>

#include "prh/data/views.hpp"

namespace prh::pipeline {

namespace {

bool imported_for(const config::Sweep& sweep, const std::string& set) {
  for (const auto& m : sweep.models)
    if (m.imported() && m.has_set(set)) return true;
  return false;
}

}  // namespace

std::vector<SetView> find_set_views(const config::Sweep& sweep,
                                    const std::vector<std::unique_ptr<data::Source>>& sources) {
  std::vector<SetView> views(sweep.image_sets.size());
  for (std::size_t s = 0; s < sweep.image_sets.size(); ++s) {
    if (!sources[s] || imported_for(sweep, sweep.image_sets[s].name)) continue;
    for (std::size_t t = 0; t < s; ++t) {
      if (views[t].base >= 0 || !sources[t]) continue;
      auto rows = data::view_rows(sweep.image_sets[s].source.spec, sweep.image_sets[t].source.spec,
                                  *sources[t],
                                  fmt::format("image_sets[{}] '{}'", s, sweep.image_sets[s].name));
      if (!rows) continue;
      views[s].base = static_cast<std::int64_t>(t);
      views[s].rows = std::move(*rows);
      break;
    }
  }
  return views;
}

}  // namespace prh::pipeline
