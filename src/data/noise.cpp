// Noise images and blends of a source with noise: every image a pure function
// of (seed, index), the same bytes on every machine (no implementation-defined
// distributions: std::mt19937_64 is fully specified, the rest is ours).

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "detail.hpp"
#include "prh/core/error.hpp"
#include "prh/core/limits.hpp"

namespace prh::data::detail {

std::uint64_t noise_seed(std::uint64_t seed, std::int64_t i) {
  return splitmix64(splitmix64(seed) + static_cast<std::uint64_t>(i));
}

void noise_bytes(const Noise& noise, std::int64_t i, std::size_t n, std::uint8_t* out) {
  std::mt19937_64 rng(noise_seed(noise.seed, i));
  if (!noise.gaussian) {
    for (std::size_t k = 0; k < n; ++k) out[k] = static_cast<std::uint8_t>(rng() >> 56);
    return;
  }
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  constexpr double k2pow53 = 1.0 / 9007199254740992.0;  // 2^-53
  const auto to_byte = [&](double z) {
    const double v = std::clamp(noise.mean + noise.std * z, 0.0, 255.0);
    return static_cast<std::uint8_t>(std::lround(v));
  };
  for (std::size_t k = 0; k < n; k += 2) {
    // u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1).
    const double u1 = 1.0 - static_cast<double>(rng() >> 11) * k2pow53;
    const double u2 = static_cast<double>(rng() >> 11) * k2pow53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    out[k] = to_byte(r * std::cos(kTwoPi * u2));
    if (k + 1 < n) out[k + 1] = to_byte(r * std::sin(kTwoPi * u2));
  }
}

namespace {

class NoiseSource final : public ShapedSource {
 public:
  NoiseSource(std::int64_t count, int height, int width, int channels, Noise noise)
      : ShapedSource("noise source", count, height, width, channels, {}), noise_(noise) {}

  std::string id(std::int64_t i) const override { return fmt::format("noise:{}", i); }

 private:
  void read_pixels(std::int64_t i, std::uint8_t* out) const override {
    noise_bytes(noise_, i,
                static_cast<std::size_t>(height()) * static_cast<std::size_t>(width()) *
                    static_cast<std::size_t>(channels()),
                out);
  }

  Noise noise_;
};

class BlendSource final : public DerivedSource {
 public:
  BlendSource(std::unique_ptr<Source> base, double alpha, Noise noise)
      : DerivedSource(std::move(base), fmt::format("blend({}):", alpha)),
        alpha_(alpha),
        noise_(noise) {}

 private:
  void transform(Image& image, std::int64_t i) const override {
    std::vector<std::uint8_t>& px = image.pixels;
    std::vector<std::uint8_t> nz(px.size());
    noise_bytes(noise_, i, nz.size(), nz.data());
    for (std::size_t k = 0; k < px.size(); ++k) {
      const double v = (1.0 - alpha_) * px[k] + alpha_ * nz[k];
      px[k] = static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
    }
  }

  double alpha_;
  Noise noise_;
};

}  // namespace

std::unique_ptr<Source> make_noise_source(const nlohmann::json& spec, const std::string& what) {
  const Spec sp(spec, "noise", what);
  const std::int64_t count = sp.integer("count");
  const std::int64_t height = sp.integer("height");
  const std::int64_t width = sp.integer("width");
  const std::int64_t channels = sp.integer("channels");
  PRH_CHECK_INPUT(height * width <= kMaxImagePixels,
                  "{}: noise images of {} x {} pixels: at most {} pixels an image", what, height,
                  width, kMaxImagePixels);
  PRH_CHECK_INPUT(channels == 1 || channels == 3,
                  "{}: noise source 'channels' must be 1 or 3 (got {})", what, channels);
  return std::make_unique<NoiseSource>(count, static_cast<int>(height), static_cast<int>(width),
                                       static_cast<int>(channels), sp.noise());
}

std::unique_ptr<Source> make_blend_source(const nlohmann::json& spec, const std::string& what) {
  const Spec sp(spec, "blend", what);
  const double alpha = sp.number("alpha");
  const Noise noise = sp.noise();
  return std::make_unique<BlendSource>(sp.base(), alpha, noise);
}

}  // namespace prh::data::detail
