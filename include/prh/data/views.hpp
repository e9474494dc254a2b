#pragma once
// Image sets that are rows of another set (docs/store.md, "Views"): when the
// images of one source are, bit for bit, images of another source, the store
// keeps the second set's features once and the first reads them through an
// index instead of embedding the same images again.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prh/data/image.hpp"

namespace prh::data {

// The rows of `base` (the source made from the canonical spec `base_spec`)
// whose images are, bit for bit, the images of the source `spec`, in
// `spec`'s order: row i of the result is the base's image of spec's image i.
// nullopt unless prh can guarantee that equality from the specs alone:
//   - the same spec: every row;
//   - a prefix: the same spec but for its length (`limit` of a file source,
//     `count` of a generated one, through blend/patch_shuffle/phase_scramble
//     bases), no more images than the base;
//   - subsample: the subsample's rows of the base's rows of its own base;
//   - blend with alpha 0 (the base's own images; (1 - 0) * p + 0 * n is p
//     exactly) and patch_shuffle whose patch leaves at most one full patch
//     (the image unchanged), on a base whose images all have one shape;
//   - blend with alpha 1 of a base whose images all have the noise set's
//     shape, against a noise set of the same distribution and seed (image i
//     is noise image i exactly).
// phase_scramble with amount 0 is not a view: its Fourier round trip
// changes pixels. `what` names the set in errors from opening sources.
std::optional<std::vector<std::int64_t>> view_rows(const nlohmann::json& spec,
                                                   const nlohmann::json& base_spec,
                                                   const Source& base, const std::string& what);

}  // namespace prh::data
