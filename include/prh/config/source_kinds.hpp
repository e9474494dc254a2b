#pragma once
// The image-source kinds (docs/config.md, "Image sources"), declared once:
// every kind's fields with their type, default, range and whether they are
// required. Both readers of a source follow this table:
//   - config::parse_source reads a `source:` node by it and writes the
//     canonical spec (every field filled with its value or default);
//   - data::make_source reads a spec by it (a hand-written spec that leaves a
//     field out gets the same default, a value outside the range the same
//     refusal).
// config owns it (the YAML schema); data, a layer below, includes it.
// Checks that tie fields together (idx `classes` needs `labels`, a noise
// image's pixel count, patches' min_crop <= max_crop, noise channels 1 or 3)
// stay with the kind's reader.

#include <cstdint>
#include <string>
#include <vector>

namespace prh::config {

// Largest count, offset, limit or seed a source or sweep accepts.
inline constexpr std::int64_t kMaxSourceInteger = std::int64_t{1} << 40;

enum class FieldType {
  kString,    // text; one of `choices` where there are any
  kInteger,   // an integer in [int_min, int_max]
  kNumber,    // a number in [num_min, num_max]
  kIntList,   // a list of integers (default: empty)
  kPathList,  // a non-empty list of file paths (required)
  kSource,    // a nested source: the base of a derived kind (required)
};

struct SourceField {
  const char* key = "";
  FieldType type = FieldType::kString;
  bool required = false;
  std::string text_default;          // kString
  std::vector<std::string> choices;  // kString: the allowed values (empty: any)
  std::int64_t int_default = 0, int_min = 0, int_max = 0;  // kInteger
  double num_default = 0, num_min = 0, num_max = 0;        // kNumber
  const char* doc = "";  // what it is (kSource: "the source to ...")
};

struct SourceKind {
  const char* name = "";
  const char* doc = "";
  std::vector<SourceField> fields;  // in reading order

  // The field `key`; InternalError if the kind declares none.
  const SourceField& field(const std::string& key) const;
  // A derived kind (blend, patch_shuffle, phase_scramble): made from a base
  // source, image by image.
  bool derived() const;
};

// Every kind, in the order docs/config.md lists them.
const std::vector<SourceKind>& source_kinds();
// The kind named `name`, or null.
const SourceKind* find_source_kind(const std::string& name);
// The kinds' names, in order.
std::vector<std::string> source_kind_names();

}  // namespace prh::config
