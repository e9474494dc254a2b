#pragma once
// Internal to the store layer: what changed between two canonical JSON
// documents, as readable lines ("source.limit: 1000 -> 2000").

#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace prh::store::detail {

// Dotted paths of the leaves where a and b differ.
inline void json_diff(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
                      std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k), (void)v;
    for (const auto& [k, v] : b.items()) keys.insert(k), (void)v;
    for (const auto& k : keys) {
      const std::string p = path.empty() ? k : path + "." + k;
      if (!a.contains(k))
        out.push_back(fmt::format("{}: (absent) -> {}", p, b.at(k).dump()));
      else if (!b.contains(k))
        out.push_back(fmt::format("{}: {} -> (absent)", p, a.at(k).dump()));
      else
        json_diff(a.at(k), b.at(k), p, out);
    }
  } else if (a != b) {
    out.push_back(fmt::format("{}: {} -> {}", path.empty() ? "(value)" : path, a.dump(), b.dump()));
  }
}

}  // namespace prh::store::detail
