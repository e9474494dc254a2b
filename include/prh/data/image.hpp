#pragma once
// Images and image sources: deterministic and random-access by index, so any
// rank can read any shard, the same bytes on every rank and every run.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace prh::data {

// An 8-bit image, row-major, channels interleaved (HWC), RGB order when C = 3.
struct Image {
  int height = 0, width = 0, channels = 0;  // channels: 1 or 3
  std::vector<std::uint8_t> pixels;         // [height * width * channels]
};

// One entry of a source: its image, its label (-1 where unknown) and an id
// (file path, or "<kind>:<index>").
struct Item {
  Image image;
  std::int64_t label = -1;
  std::string id;
};

class Source {
 public:
  virtual ~Source() = default;
  // Number of images.
  virtual std::int64_t size() const = 0;
  // Image i (0 <= i < size()). Throws InputError naming the file for an
  // unreadable or corrupt image.
  virtual Item get(std::int64_t i) const = 0;
  // Label and id of image i without decoding it (for the store's metadata).
  virtual std::int64_t label(std::int64_t i) const = 0;
  virtual std::string id(std::int64_t i) const = 0;
};

// Builds a source from its canonical spec (prh::config::SourceSpec::spec, a
// JSON object with "kind" and its parameters, defaults filled in; see
// docs/config.md). Throws InputError naming `what` (e.g. "image_sets[0]
// 'id'") for a missing file, an unknown kind or an empty set.
std::unique_ptr<Source> make_source(const nlohmann::json& spec, const std::string& what);

// Whether this prh was built with OpenCV (PRH_WITH_OPENCV): without it,
// image files (folder, list, patches sources) and the "opencv" resampler are
// refused with an InputError from without_opencv(what, needs), which names
// `what` (the image set, the model's sidecar) and `needs` (what wanted OpenCV).
bool have_opencv();
std::string without_opencv(const std::string& what, const std::string& needs);

// Threads OpenCV may use for decoding and resizing (one MPI rank per core
// wants 1: OpenCV's own pool would oversubscribe the cores).
void set_threads(int n);

}  // namespace prh::data
