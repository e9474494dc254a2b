// The image-source kinds, declared once (include/prh/config/source_kinds.hpp;
// docs/config.md, "Image sources").

#include "prh/config/source_kinds.hpp"

#include "prh/core/error.hpp"
#include "prh/core/limits.hpp"

namespace prh::config {

namespace {

SourceField typed(const char* key, FieldType type, bool required, const char* doc) {
  SourceField f;
  f.key = key;
  f.type = type;
  f.required = required;
  f.doc = doc;
  return f;
}

SourceField text(const char* key, std::string def, bool required, const char* doc,
                 std::vector<std::string> choices = {}) {
  SourceField f = typed(key, FieldType::kString, required, doc);
  f.text_default = std::move(def);
  f.choices = std::move(choices);
  return f;
}

SourceField integer(const char* key, std::int64_t def, std::int64_t lo, std::int64_t hi,
                    bool required, const char* doc) {
  SourceField f = typed(key, FieldType::kInteger, required, doc);
  f.int_default = def;
  f.int_min = lo;
  f.int_max = hi;
  return f;
}

SourceField number(const char* key, double def, double lo, double hi, const char* doc) {
  SourceField f = typed(key, FieldType::kNumber, false, doc);
  f.num_default = def;
  f.num_min = lo;
  f.num_max = hi;
  return f;
}

SourceField limit() {
  return integer("limit", 0, 0, kMaxSourceInteger, false, "the first `limit` images (0: all)");
}

SourceField seed() {
  return integer("seed", 0, 0, kMaxSourceInteger, false, "the seed of every random draw");
}

SourceField count() {
  return integer("count", 0, 1, kMaxSetImages, true, "how many images");
}

SourceField base(const char* doc) {
  return typed("base", FieldType::kSource, true, doc);
}

// The noise of noise and blend sources: distribution, mean, std and seed.
void add_noise(std::vector<SourceField>& fields) {
  fields.push_back(
      text("distribution", "uniform", false, "the noise's distribution", {"uniform", "gaussian"}));
  fields.push_back(number("mean", 127.5, 0, 255, "gaussian noise's mean (0..255 scale)"));
  fields.push_back(number("std", 64.0, 0, 1e6, "gaussian noise's standard deviation"));
  fields.push_back(seed());
}

std::vector<SourceKind> declare() {
  std::vector<SourceKind> k;
  k.push_back(
      {"idx",
       "MNIST/IDX files, gzip or not",
       {text("images", "", true, "the IDX images file"),
        text("labels", "", false, "the IDX labels file"),
        typed("classes", FieldType::kIntList, false, "the labels kept ([]: all)"),
        integer("offset", 0, 0, kMaxSourceInteger, false, "images skipped first"), limit()}});
  k.push_back({"folder",
               "JPEG/PNG under a folder, sorted; class = first-level sub-folder",
               {text("root", "", true, "the folder"), limit()}});
  k.push_back({"list",
               "one `path [label]` per line",
               {text("file", "", true, "the list"),
                text("root", "", false, "what relative paths are relative to"), limit()}});
  k.push_back(
      {"hdf5",
       "uint8 [N, H, W] or [N, H, W, C] arrays",
       {text("file", "", true, "the HDF5 file"), text("dataset", "", true, "the images' dataset"),
        text("labels", "", false, "the labels' dataset"), limit()}});
  k.push_back({"noise",
               "image i a pure function of (seed, i)",
               {count(), integer("height", 0, 1, 65536, true, "image height"),
                integer("width", 0, 1, 65536, true, "image width"),
                integer("channels", 3, 1, 3, false, "1 or 3")}});
  add_noise(k.back().fields);
  k.push_back({"shapes",
               "prh's procedural labelled shapes",
               {count(), seed(), integer("size", 28, 8, 1024, false, "the side in pixels")}});
  k.push_back({"patches",
               "grey crops of photographs",
               {count(), seed(), typed("files", FieldType::kPathList, true, "photographs"),
                integer("size", 28, 1, 4096, false, "the side in pixels"),
                integer("min_crop", 32, 1, 65536, false, "the smallest crop side"),
                integer("max_crop", 96, 1, 65536, false, "the largest crop side")}});
  k.push_back(
      {"blend",
       "(1 - alpha) * base + alpha * noise, per pixel",
       {base("the source to blend"), number("alpha", 0.5, 0.0, 1.0, "the noise's weight")}});
  add_noise(k.back().fields);
  k.push_back({"patch_shuffle",
               "the base's full patch x patch patches permuted",
               {base("the source to transform"), integer("patch", 0, 1, 65536, true, "patch size"),
                seed()}});
  k.push_back({"phase_scramble",
               "the base's Fourier phase moved by amount x a random phase",
               {base("the source to transform"),
                number("amount", 0.5, 0.0, 1.0, "how far the phase moves"), seed()}});
  k.push_back(
      {"subsample",
       "the first count images of one seeded permutation of the base",
       {base("the source to subsample"),
        integer("count", 0, 2, kMaxSetImages, true, "count of the base's images"), seed()}});
  return k;
}

}  // namespace

const SourceField& SourceKind::field(const std::string& key) const {
  for (const auto& f : fields)
    if (key == f.key) return f;
  throw InternalError(fmt::format("source kind '{}' declares no field '{}'", name, key));
}

bool SourceKind::derived() const {
  for (const auto& f : fields)
    if (f.type == FieldType::kSource) return true;
  return false;
}

const std::vector<SourceKind>& source_kinds() {
  static const std::vector<SourceKind> kinds = declare();
  return kinds;
}

const SourceKind* find_source_kind(const std::string& name) {
  for (const auto& k : source_kinds())
    if (name == k.name) return &k;
  return nullptr;
}

std::vector<std::string> source_kind_names() {
  std::vector<std::string> names;
  for (const auto& k : source_kinds()) names.emplace_back(k.name);
  return names;
}

}  // namespace prh::config
