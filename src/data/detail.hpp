#pragma once
// Internals of the data layer, shared by its source files and by its tests
// (tests/unit/test_data*.cpp include this header by relative path: the test
// target has no OpenCV include path, so fixtures are written through here).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prh/core/error.hpp"
#include "prh/core/splitmix.hpp"
#include "prh/data/image.hpp"

namespace prh::data::detail {

// --- Image files (OpenCV) -------------------------------------------------------

// Throws InputError(without_opencv(what, needs)) when prh was built without
// OpenCV: called where a source that reads image files is made, so the error
// names the image set before any work starts.
void require_opencv(const std::string& what, const std::string& needs);

// Decodes a JPEG/PNG file (cv::imread, IMREAD_UNCHANGED) to 8-bit grey (1
// channel) or RGB (3 channels): BGR -> RGB, BGRA -> RGB (alpha dropped), grey +
// alpha -> grey, 16-bit -> 8-bit. Throws InputError "<path>: no such image file"
// or "<path>: cannot decode image (corrupt or not JPEG/PNG)".
Image read_image(const std::string& path);

// Writes img (grey or RGB) with cv::imwrite; the format follows the extension.
// bits 16 stores each byte v as v * 257; alpha adds an opaque alpha channel (RGB
// only). For test fixtures. Throws InternalError when OpenCV cannot write.
void write_image(const std::string& path, const Image& img, int bits = 8, bool alpha = false);

// --- Noise --------------------------------------------------------------------

using prh::splitmix64;  // core/splitmix.hpp
// The seed of noise image i: splitmix64(splitmix64(seed) + i).
std::uint64_t noise_seed(std::uint64_t seed, std::int64_t i);

struct Noise {
  bool gaussian = false;  // uniform: every byte uniform in 0..255
  // gaussian only, on the 0..255 scale; a source's come from its spec
  // (Spec::noise: the declared defaults, config/source_kinds.hpp).
  double mean = 0.0, std = 0.0;
  std::uint64_t seed = 0;
};

// Writes the n bytes of noise image i (HWC order) to out: a pure function of
// (noise, i, n). A std::mt19937_64 seeded with noise_seed(seed, i); uniform:
// byte = rng() >> 56; gaussian: Box-Muller on two 53-bit uniforms, both values
// used, round(mean + std * z) clamped to 0..255.
void noise_bytes(const Noise& noise, std::int64_t i, std::size_t n, std::uint8_t* out);

// --- Structure-destroying transforms (scramble.cpp) ---------------------------

// img cut into patch x patch patches, the floor(H/p) x floor(W/p) full ones
// permuted (Fisher-Yates on a std::mt19937_64 seeded with `seed`, index drawn
// as rng() % (k + 1)); the remainder strips at the right and bottom edges
// (narrower than a patch) stay in place. Channels move with their pixel.
Image patch_shuffle(const Image& img, int patch, std::uint64_t seed);

// One h x w plane (row-major) with its Fourier phase moved by amount * the
// phase of the DFT of noise_plane, bin by bin (self-conjugate bins, DC and
// Nyquist, keep theirs): the amplitude spectrum is kept exactly; amount 0 is
// the identity, 1 a fully random phase. Returns the (real) inverse DFT.
std::vector<double> phase_scramble(const std::vector<double>& plane, int h, int w,
                                   const std::vector<double>& noise_plane, double amount);

// --- Generated sources (generated.cpp) ----------------------------------------

// `shapes`: labels 0..kShapeClasses-1 = disc, square, triangle, ring, cross.
constexpr std::uint64_t kShapeClasses = 5;
// Whether the shape contains (x, y), in units of its radius, y up.
bool shape_contains(int shape, double x, double y);
// Image i of a shapes source of this seed and size: a pure function of them.
Item shapes_item(std::uint64_t seed, int size, std::int64_t i);

// Where patch i of a patches source lies: photograph, top-left corner, side.
struct PatchPlace {
  int file = 0, y = 0, x = 0, crop = 0;
};
PatchPlace patch_place(std::uint64_t seed, std::int64_t i, const std::vector<int>& heights,
                       const std::vector<int>& widths, int min_crop, int max_crop);
// The crop x crop square at (y0, x0) of a grey image (row stride `stride`)
// averaged down to size x size (area weights).
std::vector<std::uint8_t> area_resize(const std::uint8_t* src, int stride, int y0, int x0, int crop,
                                      int size);

// --- Spec fields (the canonical JSON of config::parse_source) ------------------

// A spec read by its kind's declaration (include/prh/config/source_kinds.hpp,
// the table config::parse_source reads a `source:` node by): a field the spec
// leaves out takes the declared default (a required one is an InputError); a
// value of the wrong type, outside the declared range or not one of the
// declared choices is an InputError naming `what`, the kind and the field.
class Spec {
 public:
  // InputError unless spec is an object; InternalError for an undeclared kind.
  Spec(const nlohmann::json& spec, const std::string& kind, std::string what);

  const std::string& what() const { return what_; }
  std::string str(const char* key) const;
  std::int64_t integer(const char* key) const;
  double number(const char* key) const;
  std::vector<std::int64_t> int_list(const char* key) const;
  std::vector<std::string> paths(const char* key) const;
  std::uint64_t seed() const { return static_cast<std::uint64_t>(integer("seed")); }
  // distribution, mean, std and seed (noise and blend sources).
  Noise noise() const;
  // The base source of a derived kind (blend, patch_shuffle, phase_scramble),
  // made with `what`.base.
  std::unique_ptr<Source> base() const;

 private:
  const nlohmann::json* field(const char* key) const;
  const nlohmann::json& spec_;
  std::string kind_;
  std::string what_;
};

// A derived source: image i is a transform of the base's image i; its size
// and labels are the base's, its ids the base's behind `prefix`
// (`KIND(PARAMETER):`). blend, patch_shuffle and phase_scramble are one each.
class DerivedSource : public Source {
 public:
  DerivedSource(std::unique_ptr<Source> base, std::string prefix)
      : base_(std::move(base)), prefix_(std::move(prefix)) {}

  std::int64_t size() const final { return base_->size(); }
  Item get(std::int64_t i) const final {
    Item item = base_->get(i);
    transform(item.image, i);
    item.id = prefix_ + item.id;
    return item;
  }
  std::int64_t label(std::int64_t i) const final { return base_->label(i); }
  std::string id(std::int64_t i) const final { return prefix_ + base_->id(i); }

 protected:
  // Image i of the base into image i of this source, in place.
  virtual void transform(Image& image, std::int64_t i) const = 0;

 private:
  std::unique_ptr<Source> base_;
  std::string prefix_;
};

// A source of `count` images of one shape (height x width x channels), each
// read or made by its index, with their labels in memory (empty: none, -1):
// the idx, hdf5 and noise sources. Subclasses give the pixels and the ids.
class ShapedSource : public Source {
 public:
  // `name` begins the message of an index out of range ("idx source F").
  ShapedSource(std::string name, std::int64_t count, int height, int width, int channels,
               std::vector<std::int64_t> labels)
      : name_(std::move(name)),
        count_(count),
        height_(height),
        width_(width),
        channels_(channels),
        labels_(std::move(labels)) {}

  std::int64_t size() const final { return count_; }
  Item get(std::int64_t i) const final {
    check(i);
    Item item;
    item.image.height = height_;
    item.image.width = width_;
    item.image.channels = channels_;
    item.image.pixels.resize(static_cast<std::size_t>(height_) * static_cast<std::size_t>(width_) *
                             static_cast<std::size_t>(channels_));
    read_pixels(i, item.image.pixels.data());
    item.label = label(i);
    item.id = id(i);
    return item;
  }
  std::int64_t label(std::int64_t i) const final {
    check(i);
    return labels_.empty() ? -1 : labels_[static_cast<std::size_t>(i)];
  }

 protected:
  // Image i's height x width x channels bytes (HWC) into out.
  virtual void read_pixels(std::int64_t i, std::uint8_t* out) const = 0;
  void check(std::int64_t i) const {
    PRH_ASSERT(i >= 0 && i < count_, "{}: index {} out of range [0, {})", name_, i, count_);
  }
  int height() const { return height_; }
  int width() const { return width_; }
  int channels() const { return channels_; }

 private:
  std::string name_;
  std::int64_t count_;
  int height_, width_, channels_;
  std::vector<std::int64_t> labels_;  // of the images (empty: no labels)
};

// --- Sources --------------------------------------------------------------------

std::unique_ptr<Source> make_idx_source(const nlohmann::json& spec, const std::string& what);
std::unique_ptr<Source> make_folder_source(const nlohmann::json& spec, const std::string& what);
std::unique_ptr<Source> make_list_source(const nlohmann::json& spec, const std::string& what);
std::unique_ptr<Source> make_noise_source(const nlohmann::json& spec, const std::string& what);
std::unique_ptr<Source> make_blend_source(const nlohmann::json& spec, const std::string& what);
std::unique_ptr<Source> make_shapes_source(const nlohmann::json& spec, const std::string& what);
std::unique_ptr<Source> make_patches_source(const nlohmann::json& spec, const std::string& what);
std::unique_ptr<Source> make_patch_shuffle_source(const nlohmann::json& spec,
                                                  const std::string& what);
std::unique_ptr<Source> make_phase_scramble_source(const nlohmann::json& spec,
                                                   const std::string& what);
std::unique_ptr<Source> make_subsample_source(const nlohmann::json& spec, const std::string& what);

// The permutation of a subsample source (subsample.cpp): 0..size-1 shuffled
// by Fisher-Yates (k from size-1 down to 1, j = rng() % (k + 1)) on a
// std::mt19937_64 seeded with splitmix64(seed). A `subsample` of count n is
// its first n entries, so counts of one (base, seed) are nested.
std::vector<std::int64_t> subsample_permutation(std::int64_t size, std::uint64_t seed);

}  // namespace prh::data::detail
