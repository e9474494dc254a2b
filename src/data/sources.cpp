// make_source: dispatch on the spec's kind, and the helpers that read a spec's
// fields with messages naming the source.

#include <string>

#include "detail.hpp"
#include "prh/core/error.hpp"
#include "prh/data/image.hpp"

namespace prh::data {

namespace detail {

// hdf5.cpp (declared here rather than in detail.hpp: nothing else needs it).
std::unique_ptr<Source> make_hdf5_source(const nlohmann::json& spec, const std::string& what);

namespace {

const nlohmann::json* field(const nlohmann::json& spec, const char* key) {
  if (!spec.is_object()) return nullptr;
  const auto it = spec.find(key);
  return it == spec.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

std::string spec_string(const nlohmann::json& spec, const char* key, const std::string& what,
                        bool required) {
  const nlohmann::json* v = field(spec, key);
  if (!v) {
    PRH_CHECK_INPUT(!required, "{}: source field '{}' is required", what, key);
    return "";
  }
  PRH_CHECK_INPUT(v->is_string(), "{}: source field '{}' must be a string, got {}", what, key,
                  v->dump());
  return v->get<std::string>();
}

std::int64_t spec_int(const nlohmann::json& spec, const char* key, std::int64_t def,
                      const std::string& what) {
  const nlohmann::json* v = field(spec, key);
  if (!v) return def;
  PRH_CHECK_INPUT(v->is_number_integer(), "{}: source field '{}' must be an integer, got {}", what,
                  key, v->dump());
  return v->get<std::int64_t>();
}

double spec_number(const nlohmann::json& spec, const char* key, double def,
                   const std::string& what) {
  const nlohmann::json* v = field(spec, key);
  if (!v) return def;
  PRH_CHECK_INPUT(v->is_number(), "{}: source field '{}' must be a number, got {}", what, key,
                  v->dump());
  return v->get<double>();
}

std::vector<std::int64_t> spec_int_list(const nlohmann::json& spec, const char* key,
                                        const std::string& what) {
  std::vector<std::int64_t> out;
  const nlohmann::json* v = field(spec, key);
  if (!v) return out;
  PRH_CHECK_INPUT(v->is_array(), "{}: source field '{}' must be a list of integers, got {}", what,
                  key, v->dump());
  for (const auto& e : *v) {
    PRH_CHECK_INPUT(e.is_number_integer(),
                    "{}: source field '{}' must be a list of integers, got {}", what, key,
                    v->dump());
    out.push_back(e.get<std::int64_t>());
  }
  return out;
}

Noise spec_noise(const nlohmann::json& spec, const std::string& what) {
  Noise n;
  const std::string dist = spec_string(spec, "distribution", what, false);
  PRH_CHECK_INPUT(dist.empty() || dist == "uniform" || dist == "gaussian",
                  "{}: source field 'distribution' must be 'uniform' or 'gaussian', got '{}'", what,
                  dist);
  n.gaussian = dist == "gaussian";
  n.mean = spec_number(spec, "mean", 127.5, what);
  n.std = spec_number(spec, "std", 64.0, what);
  PRH_CHECK_INPUT(n.std >= 0, "{}: source field 'std' must be >= 0, got {}", what, n.std);
  const std::int64_t seed = spec_int(spec, "seed", 0, what);
  PRH_CHECK_INPUT(seed >= 0, "{}: source field 'seed' must be >= 0, got {}", what, seed);
  n.seed = static_cast<std::uint64_t>(seed);
  return n;
}

}  // namespace detail

std::unique_ptr<Source> make_source(const nlohmann::json& spec, const std::string& what) {
  PRH_CHECK_INPUT(spec.is_object(), "{}: a source must be an object with a 'kind', got {}", what,
                  spec.dump());
  const std::string kind = detail::spec_string(spec, "kind", what, true);
  if (kind == "idx") return detail::make_idx_source(spec, what);
  if (kind == "folder") return detail::make_folder_source(spec, what);
  if (kind == "list") return detail::make_list_source(spec, what);
  if (kind == "noise") return detail::make_noise_source(spec, what);
  if (kind == "shapes") return detail::make_shapes_source(spec, what);
  if (kind == "patches") return detail::make_patches_source(spec, what);
  if (kind == "blend") return detail::make_blend_source(spec, what);
  if (kind == "hdf5") return detail::make_hdf5_source(spec, what);
  if (kind == "patch_shuffle") return detail::make_patch_shuffle_source(spec, what);
  if (kind == "phase_scramble") return detail::make_phase_scramble_source(spec, what);
  throw InputError(
      fmt::format("{}: unknown source kind '{}' (known: idx, folder, list, hdf5, noise, shapes, "
                  "patches, blend, patch_shuffle, phase_scramble)",
                  what, kind));
}

}  // namespace prh::data
