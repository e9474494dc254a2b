// Which image sets are rows of another (include/prh/data/views.hpp).

#include "prh/data/views.hpp"

#include <numeric>

#include "detail.hpp"

namespace prh::data {

namespace {

using json = nlohmann::json;

std::string kind_of(const json& spec) {
  return spec.is_object() && spec.contains("kind") && spec["kind"].is_string()
             ? spec["kind"].get<std::string>()
             : std::string();
}

bool is_derived_per_image(const std::string& kind) {  // image i from the base's image i
  return kind == "blend" || kind == "patch_shuffle" || kind == "phase_scramble";
}

// The spec without its length: `limit` of a file source, `count` of a
// generated one (image i is a function of (seed, i) alone), through the
// per-image derived kinds. Two specs equal without their lengths make
// nested sets: the shorter is the first images of the longer.
json without_length(json spec) {
  const std::string kind = kind_of(spec);
  if (kind == "idx" || kind == "folder" || kind == "list" || kind == "hdf5") spec.erase("limit");
  if (kind == "noise" || kind == "shapes" || kind == "patches") spec.erase("count");
  if (is_derived_per_image(kind) && spec.contains("base"))
    spec["base"] = without_length(spec["base"]);
  return spec;
}

// Whether every image of the source has one shape (so that one image tells
// the shape of all).
bool one_shape(const json& spec) {
  const std::string kind = kind_of(spec);
  if (kind == "idx" || kind == "hdf5" || kind == "noise" || kind == "shapes" || kind == "patches")
    return true;
  if (is_derived_per_image(kind) || kind == "subsample")
    return spec.contains("base") && one_shape(spec["base"]);
  return false;
}

std::vector<std::int64_t> all_rows(std::int64_t n) {
  std::vector<std::int64_t> r(static_cast<std::size_t>(n));
  std::iota(r.begin(), r.end(), std::int64_t{0});
  return r;
}

struct Matcher {
  const json& base_spec;
  const Source& base;
  const std::string& what;

  std::optional<std::vector<std::int64_t>> match(const json& spec) const {
    if (spec == base_spec) return all_rows(base.size());
    const std::string kind = kind_of(spec);
    if (kind == "subsample") {
      const auto inner = match(spec.at("base"));
      if (!inner) return std::nullopt;
      const auto count = spec.at("count").get<std::int64_t>();
      const auto n = static_cast<std::int64_t>(inner->size());
      if (count > n) return std::nullopt;  // make_source refuses it, naming the set
      const auto perm = detail::subsample_permutation(n, detail::Spec(spec, kind, what).seed());
      std::vector<std::int64_t> rows(static_cast<std::size_t>(count));
      for (std::size_t i = 0; i < rows.size(); ++i)
        rows[i] = (*inner)[static_cast<std::size_t>(perm[i])];
      return rows;
    }
    if (kind == "blend" && spec.at("alpha").get<double>() == 0.0) return match(spec.at("base"));
    if (kind == "patch_shuffle") {
      const auto inner = match(spec.at("base"));
      if (!inner || !one_shape(base_spec)) return std::nullopt;
      if (inner->empty()) return inner;
      const Image img = base.get((*inner)[0]).image;
      const auto p = spec.at("patch").get<std::int64_t>();
      if ((img.height / p) * (img.width / p) <= 1) return inner;  // nothing moves
      return std::nullopt;
    }
    if (kind == "blend" && spec.at("alpha").get<double>() == 1.0 && kind_of(base_spec) == "noise")
      return noise_of_blend(spec);
    if (without_length(spec) == without_length(base_spec)) {
      const auto n = make_source(spec, what)->size();
      if (n <= base.size()) return all_rows(n);
    }
    return std::nullopt;
  }

  // A blend with alpha 1 is its noise alone: (1 - 1) * p + 1 * n = n, exactly.
  std::optional<std::vector<std::int64_t>> noise_of_blend(const json& spec) const {
    // The noise as the source reads it (the declared defaults, source_kinds.hpp);
    // mean and std matter to gaussian noise only.
    const auto noise_key = [this](const json& s) {
      const detail::Noise nz = detail::Spec(s, kind_of(s), what).noise();
      return json{{"gaussian", nz.gaussian},
                  {"seed", nz.seed},
                  {"mean", nz.gaussian ? nz.mean : 0.0},
                  {"std", nz.gaussian ? nz.std : 0.0}};
    };
    if (noise_key(spec) != noise_key(base_spec) || !one_shape(spec.at("base"))) return std::nullopt;
    const auto src = make_source(spec.at("base"), what);
    const std::int64_t n = src->size();
    if (n > base.size()) return std::nullopt;
    if (n > 0) {
      const Image img = src->get(0).image;
      if (img.height != base_spec.at("height").get<int>() ||
          img.width != base_spec.at("width").get<int>() ||
          img.channels != base_spec.at("channels").get<int>())
        return std::nullopt;
    }
    return all_rows(n);
  }
};

}  // namespace

std::optional<std::vector<std::int64_t>> view_rows(const nlohmann::json& spec,
                                                   const nlohmann::json& base_spec,
                                                   const Source& base, const std::string& what) {
  return Matcher{base_spec, base, what}.match(spec);
}

}  // namespace prh::data
