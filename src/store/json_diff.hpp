#pragma once
// Internal to the store layer: what changed between two canonical JSON
// documents, as readable lines ("source.limit: 1000 -> 2000").

#include <cstdlib>
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

// `j` with every non-integer number replaced by the shortest decimal of its
// float32 value: sidecar numbers (mean, std) are floats, so 0.1 shows as
// 0.1 in a diff, not 0.10000000149011612, and values equal as floats are equal.
inline nlohmann::json float_view(const nlohmann::json& j) {
  if (j.is_number_float()) {
    const std::string s = fmt::format("{}", static_cast<float>(j.get<double>()));
    return std::strtod(s.c_str(), nullptr);
  }
  if (j.is_array() || j.is_object()) {
    nlohmann::json out = j;
    for (auto it = out.begin(); it != out.end(); ++it) *it = float_view(*it);
    return out;
  }
  return j;
}

}  // namespace prh::store::detail
