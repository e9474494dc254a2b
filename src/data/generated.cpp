// Sources that prh makes itself, every image a pure function of (seed, index):
// `shapes` (a procedural labelled distribution: one of five shapes at a random
// position, scale, rotation and contrast on a noisy background) and `patches`
// (grey crops of photographs, resampled to a fixed size). Only fully specified
// arithmetic on std::mt19937_64 (no implementation-defined distributions), so
// the bytes are the same on every machine and rank.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>

#include "detail.hpp"
#include "prh/core/error.hpp"

namespace prh::data::detail {

namespace {

constexpr double k2pow53 = 1.0 / 9007199254740992.0;  // 2^-53
constexpr double kTwoPi = 6.283185307179586476925286766559;

// A uniform double in [0, 1) from 53 bits.
double unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * k2pow53;
}

// Stream of image i of a generated source: distinct from the noise sources'
// streams for the same seed.
std::uint64_t stream(std::uint64_t seed, std::uint64_t salt, std::int64_t i) {
  return noise_seed(splitmix64(seed ^ salt), i);
}

constexpr std::uint64_t kShapesSalt = 0x5348415045535f31ULL;   // "SHAPES_1"
constexpr std::uint64_t kPatchesSalt = 0x50415443485f5f31ULL;  // "PATCH__1"

}  // namespace

bool shape_contains(int shape, double x, double y) {
  const double r2 = x * x + y * y;
  switch (shape) {
    case 0:  // disc
      return r2 <= 1.0;
    case 1:  // square
      return std::max(std::abs(x), std::abs(y)) <= 0.8;
    case 2: {  // equilateral triangle, vertices on the unit circle
      const double s3 = 1.7320508075688772;
      return y >= -0.5 && s3 * x + y <= 1.0 && -s3 * x + y <= 1.0;
    }
    case 3:  // ring
      return r2 <= 1.0 && r2 >= 0.55 * 0.55;
    case 4:  // cross
      return (std::abs(x) <= 0.3 && std::abs(y) <= 1.0) ||
             (std::abs(y) <= 0.3 && std::abs(x) <= 1.0);
    default:
      return false;
  }
}

Item shapes_item(std::uint64_t seed, int size, std::int64_t i) {
  std::mt19937_64 rng(stream(seed, kShapesSalt, i));
  Item item;
  item.label = static_cast<std::int64_t>(rng() % kShapeClasses);
  const double bg = 10.0 + 70.0 * unit(rng);
  const double fg = 140.0 + 110.0 * unit(rng);
  const double s = static_cast<double>(size);
  const double radius = s * (0.18 + 0.17 * unit(rng));
  const double cx = radius + (s - 2 * radius) * unit(rng);
  const double cy = radius + (s - 2 * radius) * unit(rng);
  const double angle = kTwoPi * unit(rng);
  const double noise = 4.0 + 16.0 * unit(rng);
  const double c = std::cos(angle), sn = std::sin(angle);
  item.image.height = item.image.width = size;
  item.image.channels = 1;
  item.image.pixels.resize(static_cast<std::size_t>(size) * static_cast<std::size_t>(size));
  constexpr int kSub = 4;  // 4 x 4 samples per pixel: anti-aliased edges
  for (int py = 0; py < size; ++py) {
    for (int px = 0; px < size; ++px) {
      int inside = 0;
      for (int sy = 0; sy < kSub; ++sy) {
        for (int sx = 0; sx < kSub; ++sx) {
          const double dx = (px + (sx + 0.5) / kSub - cx) / radius;
          const double dy = (cy - (py + (sy + 0.5) / kSub)) / radius;  // y up
          inside +=
              shape_contains(static_cast<int>(item.label), c * dx + sn * dy, -sn * dx + c * dy);
        }
      }
      const double cover = static_cast<double>(inside) / (kSub * kSub);
      const double v = bg + (fg - bg) * cover + noise * (2.0 * unit(rng) - 1.0);
      item.image.pixels[static_cast<std::size_t>(py * size + px)] =
          static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
    }
  }
  item.id = fmt::format("shapes:{}", i);
  return item;
}

PatchPlace patch_place(std::uint64_t seed, std::int64_t i, const std::vector<int>& heights,
                       const std::vector<int>& widths, int min_crop, int max_crop) {
  std::mt19937_64 rng(stream(seed, kPatchesSalt, i));
  PatchPlace p;
  p.file = static_cast<int>(rng() % heights.size());
  const auto f = static_cast<std::size_t>(p.file);
  p.crop = min_crop + static_cast<int>(rng() % static_cast<std::uint64_t>(max_crop - min_crop + 1));
  p.y = static_cast<int>(rng() % static_cast<std::uint64_t>(heights[f] - p.crop + 1));
  p.x = static_cast<int>(rng() % static_cast<std::uint64_t>(widths[f] - p.crop + 1));
  return p;
}

std::vector<std::uint8_t> area_resize(const std::uint8_t* src, int stride, int y0, int x0, int crop,
                                      int size) {
  // Output pixel o covers source [o * crop / size, (o + 1) * crop / size):
  // weights by overlap, separable, the same on every machine.
  const double step = static_cast<double>(crop) / size;
  std::vector<std::vector<std::pair<int, double>>> w(static_cast<std::size_t>(size));
  for (int o = 0; o < size; ++o) {
    const double a = o * step, b = (o + 1) * step;
    for (int k = static_cast<int>(std::floor(a)); k < static_cast<int>(std::ceil(b)) && k < crop;
         ++k) {
      const double ov = std::min(b, k + 1.0) - std::max(a, static_cast<double>(k));
      if (ov > 0) w[static_cast<std::size_t>(o)].push_back({k, ov / step});
    }
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>(size) * static_cast<std::size_t>(size));
  for (int oy = 0; oy < size; ++oy) {
    for (int ox = 0; ox < size; ++ox) {
      double v = 0;
      for (const auto& [ky, wy] : w[static_cast<std::size_t>(oy)])
        for (const auto& [kx, wx] : w[static_cast<std::size_t>(ox)])
          v += wy * wx *
               src[static_cast<std::size_t>(y0 + ky) * static_cast<std::size_t>(stride) +
                   static_cast<std::size_t>(x0 + kx)];
      out[static_cast<std::size_t>(oy * size + ox)] =
          static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
    }
  }
  return out;
}

namespace {

class ShapesSource final : public Source {
 public:
  ShapesSource(std::int64_t count, int size, std::uint64_t seed)
      : count_(count), size_(size), seed_(seed) {}
  std::int64_t size() const override { return count_; }
  Item get(std::int64_t i) const override {
    PRH_ASSERT(i >= 0 && i < count_, "shapes source: index {} out of range [0, {})", i, count_);
    return shapes_item(seed_, size_, i);
  }
  std::int64_t label(std::int64_t i) const override {
    std::mt19937_64 rng(stream(seed_, kShapesSalt, i));
    return static_cast<std::int64_t>(rng() % kShapeClasses);
  }
  std::string id(std::int64_t i) const override { return fmt::format("shapes:{}", i); }

 private:
  std::int64_t count_;
  int size_;
  std::uint64_t seed_;
};

class PatchesSource final : public Source {
 public:
  PatchesSource(std::vector<std::string> files, std::int64_t count, int size, int min_crop,
                int max_crop, std::uint64_t seed, const std::string& what)
      : files_(std::move(files)),
        count_(count),
        size_(size),
        min_crop_(min_crop),
        max_crop_(max_crop),
        seed_(seed) {
    for (const auto& path : files_) {
      Image img = read_image(path);
      PRH_CHECK_INPUT(img.height >= max_crop_ && img.width >= max_crop_,
                      "{}: photograph {} is {} x {}, smaller than max_crop {}", what, path,
                      img.height, img.width, max_crop_);
      if (img.channels == 3) {
        std::vector<std::uint8_t> grey(static_cast<std::size_t>(img.height) *
                                       static_cast<std::size_t>(img.width));
        for (std::size_t k = 0; k < grey.size(); ++k) {
          const auto* p = &img.pixels[3 * k];
          // ITU-R BT.601 luma in integers: exact and portable.
          grey[k] = static_cast<std::uint8_t>((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
        }
        img.pixels = std::move(grey);
        img.channels = 1;
      }
      heights_.push_back(img.height);
      widths_.push_back(img.width);
      stems_.push_back(std::filesystem::path(path).stem().string());
      photos_.push_back(std::move(img.pixels));
    }
  }
  std::int64_t size() const override { return count_; }
  Item get(std::int64_t i) const override {
    PRH_ASSERT(i >= 0 && i < count_, "patches source: index {} out of range [0, {})", i, count_);
    const auto p = patch_place(seed_, i, heights_, widths_, min_crop_, max_crop_);
    Item item;
    item.image.height = item.image.width = size_;
    item.image.channels = 1;
    item.image.pixels =
        area_resize(photos_[static_cast<std::size_t>(p.file)].data(),
                    widths_[static_cast<std::size_t>(p.file)], p.y, p.x, p.crop, size_);
    item.label = -1;
    item.id = id(i);
    return item;
  }
  std::int64_t label(std::int64_t) const override { return -1; }
  std::string id(std::int64_t i) const override {
    const auto p = patch_place(seed_, i, heights_, widths_, min_crop_, max_crop_);
    return fmt::format("patch:{}:{}:y{}x{}s{}", i, stems_[static_cast<std::size_t>(p.file)], p.y,
                       p.x, p.crop);
  }

 private:
  std::vector<std::string> files_;
  std::int64_t count_;
  int size_, min_crop_, max_crop_;
  std::uint64_t seed_;
  std::vector<int> heights_, widths_;
  std::vector<std::string> stems_;
  std::vector<std::vector<std::uint8_t>> photos_;
};

}  // namespace

std::unique_ptr<Source> make_shapes_source(const nlohmann::json& spec, const std::string& what) {
  const Spec sp(spec, "shapes", what);
  const std::int64_t count = sp.integer("count");
  const std::int64_t size = sp.integer("size");
  return std::make_unique<ShapesSource>(count, static_cast<int>(size), sp.seed());
}

std::unique_ptr<Source> make_patches_source(const nlohmann::json& spec, const std::string& what) {
  require_opencv(what, "a patches source (photographs: JPEG/PNG files)");
  const Spec sp(spec, "patches", what);
  std::vector<std::string> files = sp.paths("files");
  const std::int64_t count = sp.integer("count");
  const std::int64_t size = sp.integer("size");
  const std::int64_t lo = sp.integer("min_crop");
  const std::int64_t hi = sp.integer("max_crop");
  PRH_CHECK_INPUT(lo <= hi, "{}: patches source needs min_crop <= max_crop (got {} and {})", what,
                  lo, hi);
  return std::make_unique<PatchesSource>(std::move(files), count, static_cast<int>(size),
                                         static_cast<int>(lo), static_cast<int>(hi), sp.seed(),
                                         what);
}

}  // namespace prh::data::detail
