// make_source: dispatch on the spec's kind, and the helpers that read a spec's
// fields with messages naming the source.

#include <algorithm>
#include <string>

#include "detail.hpp"
#include "prh/config/source_kinds.hpp"
#include "prh/core/error.hpp"
#include "prh/data/image.hpp"

namespace prh::data {

namespace detail {

// hdf5.cpp (declared here rather than in detail.hpp: nothing else needs it).
std::unique_ptr<Source> make_hdf5_source(const nlohmann::json& spec, const std::string& what);

namespace {

const config::SourceKind& declared(const std::string& kind) {
  const config::SourceKind* k = config::find_source_kind(kind);
  PRH_ASSERT(k, "source kind '{}' is not declared (config/source_kinds.hpp)", kind);
  return *k;
}

}  // namespace

Spec::Spec(const nlohmann::json& spec, const std::string& kind, std::string what)
    : spec_(spec), kind_(kind), what_(std::move(what)) {
  PRH_CHECK_INPUT(spec.is_object(), "{}: a source must be an object with a 'kind', got {}", what_,
                  spec.dump());
  declared(kind_);
}

// The spec's value of the declared field `key` of type `type`; null if absent
// (an InputError if it is required).
const nlohmann::json* Spec::field(const char* key) const {
  const config::SourceField& d = declared(kind_).field(key);
  const auto it = spec_.find(key);
  if (it == spec_.end() || it->is_null()) {
    PRH_CHECK_INPUT(!d.required, "{}: {} source field '{}' is required ({})", what_, kind_, key,
                    d.doc);
    return nullptr;
  }
  return &*it;
}

std::string Spec::str(const char* key) const {
  const config::SourceField& d = declared(kind_).field(key);
  const nlohmann::json* v = field(key);
  if (!v) return d.text_default;
  PRH_CHECK_INPUT(v->is_string(), "{}: source field '{}' must be a string, got {}", what_, key,
                  v->dump());
  const std::string s = v->get<std::string>();
  if (!d.choices.empty()) {
    std::string list;
    for (const auto& c : d.choices) list += (list.empty() ? "'" : ", '") + c + "'";
    PRH_CHECK_INPUT(std::find(d.choices.begin(), d.choices.end(), s) != d.choices.end(),
                    "{}: source field '{}' must be one of {}, got '{}'", what_, key, list, s);
  }
  PRH_CHECK_INPUT(!d.required || !s.empty(), "{}: source field '{}' must not be empty", what_, key);
  return s;
}

std::int64_t Spec::integer(const char* key) const {
  const config::SourceField& d = declared(kind_).field(key);
  const nlohmann::json* v = field(key);
  if (!v) return d.int_default;
  PRH_CHECK_INPUT(v->is_number_integer(), "{}: source field '{}' must be an integer, got {}", what_,
                  key, v->dump());
  const auto x = v->get<std::int64_t>();
  PRH_CHECK_INPUT(x >= d.int_min && x <= d.int_max,
                  "{}: {} source field '{}' must be in [{}, {}], got {}", what_, kind_, key,
                  d.int_min, d.int_max, x);
  return x;
}

double Spec::number(const char* key) const {
  const config::SourceField& d = declared(kind_).field(key);
  const nlohmann::json* v = field(key);
  if (!v) return d.num_default;
  PRH_CHECK_INPUT(v->is_number(), "{}: source field '{}' must be a number, got {}", what_, key,
                  v->dump());
  const double x = v->get<double>();
  PRH_CHECK_INPUT(x >= d.num_min && x <= d.num_max,
                  "{}: {} source field '{}' must be in [{}, {}], got {}", what_, kind_, key,
                  d.num_min, d.num_max, x);
  return x;
}

std::vector<std::int64_t> Spec::int_list(const char* key) const {
  std::vector<std::int64_t> out;
  const nlohmann::json* v = field(key);
  if (!v) return out;
  PRH_CHECK_INPUT(v->is_array(), "{}: source field '{}' must be a list of integers, got {}", what_,
                  key, v->dump());
  for (const auto& e : *v) {
    PRH_CHECK_INPUT(e.is_number_integer(),
                    "{}: source field '{}' must be a list of integers, got {}", what_, key,
                    v->dump());
    out.push_back(e.get<std::int64_t>());
  }
  return out;
}

std::vector<std::string> Spec::paths(const char* key) const {
  std::vector<std::string> out;
  const nlohmann::json* v = field(key);
  PRH_CHECK_INPUT(v && v->is_array() && !v->empty(),
                  "{}: {} source needs '{}' (a non-empty list of {})", what_, kind_, key,
                  declared(kind_).field(key).doc);
  for (const auto& e : *v) {
    PRH_CHECK_INPUT(e.is_string(), "{}: {} source '{}' must be a list of paths", what_, kind_, key);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Noise Spec::noise() const {
  Noise n;
  n.gaussian = str("distribution") == "gaussian";
  n.mean = number("mean");
  n.std = number("std");
  n.seed = seed();
  return n;
}

std::unique_ptr<Source> Spec::base() const {
  const nlohmann::json* b = field("base");
  PRH_CHECK_INPUT(b && b->is_object(), "{}: {} source needs 'base' ({})", what_, kind_,
                  declared(kind_).field("base").doc);
  return make_source(*b, what_ + ".base");
}

}  // namespace detail

std::unique_ptr<Source> make_source(const nlohmann::json& spec, const std::string& what) {
  PRH_CHECK_INPUT(spec.is_object(), "{}: a source must be an object with a 'kind', got {}", what,
                  spec.dump());
  const auto k = spec.find("kind");
  PRH_CHECK_INPUT(k != spec.end() && k->is_string(),
                  "{}: source field 'kind' is required (a string), got {}", what, spec.dump());
  const std::string kind = k->get<std::string>();
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
  if (kind == "subsample") return detail::make_subsample_source(spec, what);
  std::string known;
  for (const auto& name : config::source_kind_names()) known += (known.empty() ? "" : ", ") + name;
  throw InputError(fmt::format("{}: unknown source kind '{}' (known: {})", what, kind, known));
}

}  // namespace prh::data
