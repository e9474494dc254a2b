#pragma once
// Internal to the store: string attributes, and the JSON documents prh keeps
// in them (embed_params, a set's or model's spec, layer_names, sidecar, item),
// read so that a damaged one is an InputError naming the file, the object and
// the attribute (never nlohmann's parse_error or type_error).

#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "h5.hpp"
#include "prh/core/error.hpp"

namespace prh::store::detail {

[[noreturn]] inline void bad_json_attr(h5::Id obj, const std::string& name, const char* what) {
  const std::string file = h5::file_name(obj), object = h5::object_name(obj);
  throw InputError(fmt::format("{}: '{}': the attribute '{}' is {} (a damaged file?)",
                               file.empty() ? "HDF5 file" : file, object.empty() ? "/" : object,
                               name, what));
}

// The string attribute `name` of `obj`, or `fallback` where it has none.
inline std::string string_attr_or(h5::Id obj, const std::string& name,
                                  const std::string& fallback) {
  return h5::has_attr(obj, name) ? h5::read_attr_string(obj, name) : fallback;
}

// The JSON document in the string attribute `name` of `obj`.
inline nlohmann::json json_attr(h5::Id obj, const std::string& name) {
  nlohmann::json j =
      nlohmann::json::parse(h5::read_attr_string(obj, name), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) bad_json_attr(obj, name, "not valid JSON");
  return j;
}

// The JSON list of strings in the string attribute `name` of `obj`.
inline std::vector<std::string> json_attr_strings(h5::Id obj, const std::string& name) {
  const nlohmann::json j = json_attr(obj, name);
  if (!j.is_array()) bad_json_attr(obj, name, "not a JSON list of strings");
  std::vector<std::string> out;
  for (const auto& e : j) {
    if (!e.is_string()) bad_json_attr(obj, name, "not a JSON list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace prh::store::detail
