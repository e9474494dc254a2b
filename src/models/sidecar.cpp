// The sidecar YAML of a model (its preprocessing) and the file checksum.
// No torch here: this file compiles in a second.

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "prh/config/yaml_documents.hpp"
#include "prh/core/error.hpp"
#include "prh/core/files.hpp"
#include "prh/data/image.hpp"
#include "prh/models/model.hpp"

namespace prh::models {

namespace {

// Limits (docs/models.md, "Sidecar"): the file, the model's input and the
// resize before the crop.
constexpr std::size_t kMaxSidecarBytes = std::size_t{1} << 20;
constexpr int kMaxInputSize = 4096;
constexpr int kMaxResize = 8192;

const std::set<std::string> kKnownKeys{"input_size", "resize", "crop", "interpolation", "resampler",
                                       "channels",   "mean",   "std",  "layer_names"};

// What a node is, for error messages.
std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "an undefined value";
  }
}

// A plain (unquoted) scalar: "224" in quotes is a string, not a number.
bool plain_scalar(const YAML::Node& n) {
  return n.IsScalar() && n.Tag() != "!";
}

// A plain scalar read as a T into v; false (v left as it was) if it is not one.
template <typename T>
bool plain_value(const YAML::Node& n, T& v) {
  if (!plain_scalar(n)) return false;
  try {
    v = n.as<T>();
  } catch (const YAML::Exception&) {
    return false;
  }
  return true;
}

int get_positive_int(const YAML::Node& n, const std::string& path, const std::string& key) {
  int v = 0;
  const bool ok = plain_value(n, v);
  PRH_CHECK_INPUT(ok && v > 0, "sidecar {}: field '{}' must be a positive integer (got {})", path,
                  key, describe(n));
  return v;
}

std::vector<float> get_numbers(const YAML::Node& n, const std::string& path,
                               const std::string& key) {
  PRH_CHECK_INPUT(n.IsSequence(), "sidecar {}: field '{}' must be a list of numbers (got {})", path,
                  key, describe(n));
  std::vector<float> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node e = n[i];
    double v = 0.0;
    const bool ok = plain_value(e, v);
    PRH_CHECK_INPUT(ok && std::isfinite(v),
                    "sidecar {}: field '{}' must be a list of numbers; element {} is {}", path, key,
                    i, describe(e));
    // Stored as float32: beyond its range the value would be inf and every
    // feature NaN.
    PRH_CHECK_INPUT(std::fabs(v) <= static_cast<double>(std::numeric_limits<float>::max()),
                    "sidecar {}: field '{}': element {} ({}) is beyond the float32 range (+-{:g})",
                    path, key, i, e.Scalar(), std::numeric_limits<float>::max());
    out.push_back(static_cast<float>(v));
  }
  return out;
}

// The file's one YAML document, a mapping of known keys, each given once.
YAML::Node read_root(const std::string& path) {
  std::error_code ec;
  PRH_CHECK_INPUT(std::filesystem::is_regular_file(path, ec), "sidecar {}: no such file", path);

  // A regular file of at most 1 MiB (a FIFO would block, /dev/zero never ends).
  const std::string text = read_text(path, "sidecar", kMaxSidecarBytes);
  YAML::Node loaded;
  std::size_t documents = 0;
  try {
    // Not YAML::LoadAll: it can loop forever (yaml_documents.hpp).
    loaded = config::load_first_yaml_document(text, documents);
  } catch (const YAML::ParserException& e) {
    throw InputError(fmt::format("sidecar {}: not valid YAML (line {}, column {}): {}", path,
                                 e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("sidecar {}: cannot read: {}", path, e.what()));
  }
  PRH_CHECK_INPUT(documents <= 1,
                  "sidecar {}: holds {} YAML documents (separated by '---'); a sidecar is one",
                  path, documents);
  PRH_CHECK_INPUT(loaded.IsMap(),
                  "sidecar {}: must be a mapping of fields (input_size, ...), got {}", path,
                  describe(loaded));

  std::set<std::string> seen;
  for (const auto& kv : loaded) {
    PRH_CHECK_INPUT(kv.first.IsScalar(), "sidecar {}: line {}: a key must be a plain string", path,
                    kv.first.Mark().line + 1);
    const std::string key = kv.first.Scalar();
    PRH_CHECK_INPUT(kKnownKeys.count(key) == 1,
                    "sidecar {}: unknown field '{}' (known: input_size, resize, crop, "
                    "interpolation, resampler, channels, mean, std, layer_names)",
                    path, key);
    PRH_CHECK_INPUT(seen.insert(key).second, "sidecar {}: field '{}' is given twice", path, key);
  }
  return loaded;
}

// input_size, resize and crop.
void read_sizes(const YAML::Node& root, const std::string& path, Sidecar& s) {
  PRH_CHECK_INPUT(root["input_size"], "sidecar {}: missing required field 'input_size'", path);
  s.input_size = get_positive_int(root["input_size"], path, "input_size");
  // Bounded: an image of input_size^2 x channels floats is allocated per row.
  PRH_CHECK_INPUT(s.input_size <= kMaxInputSize,
                  "sidecar {}: field 'input_size' ({}) is larger than {} pixels, the most prh "
                  "accepts",
                  path, s.input_size, kMaxInputSize);

  data::Transform& t = s.transform;
  t.resize = root["resize"] ? get_positive_int(root["resize"], path, "resize") : s.input_size;
  t.crop = root["crop"] ? get_positive_int(root["crop"], path, "crop") : s.input_size;
  PRH_CHECK_INPUT(t.crop == s.input_size,
                  "sidecar {}: field 'crop' ({}) must equal 'input_size' ({}): the centre crop is "
                  "what the model sees",
                  path, t.crop, s.input_size);
  PRH_CHECK_INPUT(t.resize <= kMaxResize,
                  "sidecar {}: field 'resize' ({}) is larger than {} pixels, the most prh accepts",
                  path, t.resize, kMaxResize);
  PRH_CHECK_INPUT(t.resize >= t.crop,
                  "sidecar {}: field 'resize' ({}) must be at least 'crop' ({}): the shorter side "
                  "is resized before the centre crop",
                  path, t.resize, t.crop);
}

// interpolation and resampler.
void read_resampling(const YAML::Node& root, const std::string& path, data::Transform& t) {
  t.interpolation = "bicubic";
  if (const YAML::Node n = root["interpolation"]) {
    const std::string v = n.IsScalar() ? n.Scalar() : std::string();
    PRH_CHECK_INPUT(n.IsScalar() && (v == "bicubic" || v == "bilinear"),
                    "sidecar {}: field 'interpolation' must be 'bicubic' or 'bilinear' (got {})",
                    path, describe(n));
    t.interpolation = v;
  }

  t.resampler = "pil";
  if (const YAML::Node n = root["resampler"]) {
    const std::string v = n.IsScalar() ? n.Scalar() : std::string();
    PRH_CHECK_INPUT(n.IsScalar() && (v == "pil" || v == "opencv"),
                    "sidecar {}: field 'resampler' must be 'pil' (PIL's antialiased resize, as "
                    "timm and torchvision) or 'opencv' (OpenCV's plain resize) (got {})",
                    path, describe(n));
    if (v == "opencv" && !data::have_opencv())
      throw InputError(data::without_opencv(fmt::format("sidecar {}", path), "resampler 'opencv'"));
    t.resampler = v;
  }
}

// channels, mean and std (ImageNet's by default, 0.5 for one channel).
void read_normalisation(const YAML::Node& root, const std::string& path, data::Transform& t) {
  t.channels = 3;
  if (const YAML::Node n = root["channels"]) {
    const int c = get_positive_int(n, path, "channels");
    PRH_CHECK_INPUT(c == 1 || c == 3, "sidecar {}: field 'channels' must be 1 or 3 (got {})", path,
                    c);
    t.channels = c;
  }
  const std::size_t nc = static_cast<std::size_t>(t.channels);
  if (t.channels == 3) {
    t.mean = {0.485f, 0.456f, 0.406f};
    t.std = {0.229f, 0.224f, 0.225f};
  } else {
    t.mean = {0.5f};
    t.std = {0.5f};
  }
  if (const YAML::Node n = root["mean"]) {
    t.mean = get_numbers(n, path, "mean");
    PRH_CHECK_INPUT(t.mean.size() == nc,
                    "sidecar {}: field 'mean' must have {} numbers (one per channel), got {}", path,
                    nc, t.mean.size());
  }
  if (const YAML::Node n = root["std"]) {
    t.std = get_numbers(n, path, "std");
    PRH_CHECK_INPUT(t.std.size() == nc,
                    "sidecar {}: field 'std' must have {} numbers (one per channel), got {}", path,
                    nc, t.std.size());
    for (std::size_t i = 0; i < nc; ++i)
      PRH_CHECK_INPUT(t.std[i] > 0.0f,
                      "sidecar {}: field 'std' must be positive (element {} is {})", path, i,
                      t.std[i]);
  }
}

// layer_names: non-empty UTF-8 strings.
std::vector<std::string> read_layer_names(const YAML::Node& root, const std::string& path) {
  std::vector<std::string> names;
  const YAML::Node n = root["layer_names"];
  if (!n) return names;
  PRH_CHECK_INPUT(n.IsSequence(),
                  "sidecar {}: field 'layer_names' must be a list of strings (got {})", path,
                  describe(n));
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node e = n[i];
    PRH_CHECK_INPUT(e.IsScalar() && !e.Scalar().empty(),
                    "sidecar {}: field 'layer_names' must be a list of non-empty strings; "
                    "element {} is {}",
                    path, i, describe(e));
    // Layer names become HDF5 names and JSON text (the store, the
    // results): UTF-8 without NUL, or the store write fails later.
    PRH_CHECK_INPUT(first_invalid_utf8(e.Scalar()) == std::string::npos,
                    "sidecar {}: field 'layer_names': element {} ('{}') is not valid UTF-8", path,
                    i, e.Scalar());
    names.push_back(e.Scalar());
  }
  return names;
}

}  // namespace

Sidecar load_sidecar(const std::string& path) {
  const YAML::Node loaded = read_root(path);
  const YAML::Node& root = loaded;  // const: looking a key up must not insert it
  Sidecar s;
  read_sizes(root, path, s);
  read_resampling(root, path, s.transform);
  read_normalisation(root, path, s.transform);
  s.layer_names = read_layer_names(root, path);
  return s;
}

std::string file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  PRH_CHECK_INPUT(in && std::filesystem::is_regular_file(path, ec),
                  "checksum of {}: cannot read the file (no such file or not readable)", path);
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a 64 offset basis
  constexpr std::uint64_t kPrime = 1099511628211ULL;
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    for (std::streamsize i = 0; i < got; ++i) {
      h ^= static_cast<std::uint64_t>(static_cast<unsigned char>(buf[static_cast<std::size_t>(i)]));
      h *= kPrime;
    }
  }
  PRH_CHECK_INPUT(in.eof(), "checksum of {}: read error", path);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(hex);
}

}  // namespace prh::models
