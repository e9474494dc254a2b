// PIL's antialiased resize: known answers from Pillow 9.4 (Debian 12's
// python3-pil: Image.fromarray(a).resize((out_w, out_h), Image.BICUBIC or
// Image.BILINEAR) on the pattern below), windows equal to blocks of the full
// resize, and the transform's choice of resampler. The same resampler is
// checked bit for bit against PIL on real photographs and on odd sizes by
// tests/e2e/test_parity.py.

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prh/core/error.hpp"
#include "prh/data/image.hpp"
#include "prh/data/resample.hpp"
#include "prh/data/transform.hpp"

namespace {

using prh::data::resample_pil;
using prh::data::ResampleFilter;
using prh::data::Window;

// (y * 53 + x * 97 + k * 71 + ((x * y) % 7) * 29) % 256: edges in every direction.
std::vector<std::uint8_t> pattern(int h, int w, int c) {
  std::vector<std::uint8_t> a(static_cast<std::size_t>(h * w * c));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        a[static_cast<std::size_t>((y * w + x) * c + k)] =
            static_cast<std::uint8_t>((y * 53 + x * 97 + k * 71 + (x * y) % 7 * 29) % 256);
  return a;
}

std::vector<std::uint8_t> resize(int h, int w, int c, int oh, int ow, ResampleFilter f) {
  const auto src = pattern(h, w, c);
  std::vector<std::uint8_t> out;
  resample_pil(src.data(), h, w, c, oh, ow, f, Window{0, 0, oh, ow}, out);
  return out;
}

TEST(DataResample, EqualsPillowOnKnownAnswers) {
  // Downscale, both passes.
  EXPECT_EQ(resize(6, 9, 1, 3, 4, ResampleFilter::bicubic),
            (std::vector<std::uint8_t>{89, 106, 128, 108, 99, 122, 113, 116, 151, 117, 115, 138}));
  // Upscale: the filter keeps its own support (no antialiasing needed).
  EXPECT_EQ(
      resize(5, 3, 1, 8, 7, ResampleFilter::bilinear),
      (std::vector<std::uint8_t>{
          0,  14, 55, 97, 139, 180, 194, 23,  39,  86,  133, 132, 131, 131, 56,  72,  120, 168, 120,
          72, 56, 89, 85, 72,  59,  87,  116, 125, 123, 110, 70,  31,  66,  103, 115, 156, 145, 114,
          82, 57, 32, 24, 189, 181, 157, 133, 122, 111, 107, 212, 206, 187, 169, 173, 178, 179}));
  // RGB, both filters.
  EXPECT_EQ(resize(7, 10, 3, 5, 4, ResampleFilter::bicubic),
            (std::vector<std::uint8_t>{
                91,  120, 161, 121, 133, 108, 139, 138, 126, 103, 127, 165, 89,  164, 151,
                89,  166, 131, 95,  145, 136, 129, 129, 148, 108, 162, 139, 156, 158, 98,
                110, 182, 159, 150, 156, 150, 160, 127, 102, 110, 185, 124, 119, 196, 152,
                131, 167, 122, 97,  130, 166, 104, 107, 157, 139, 171, 125, 185, 105, 112}));
  EXPECT_EQ(resize(7, 10, 3, 5, 4, ResampleFilter::bilinear),
            (std::vector<std::uint8_t>{
                93,  125, 158, 118, 134, 113, 131, 137, 130, 104, 129, 161, 90,  161, 148,
                92,  163, 130, 97,  144, 139, 125, 135, 147, 111, 160, 137, 146, 159, 109,
                114, 179, 154, 151, 155, 145, 154, 133, 107, 112, 179, 124, 120, 191, 148,
                130, 165, 126, 102, 130, 162, 108, 115, 152, 137, 167, 125, 177, 112, 117}));
  // Only the width changes: Pillow skips the vertical pass.
  EXPECT_EQ(resize(4, 4, 1, 4, 2, ResampleFilter::bicubic),
            (std::vector<std::uint8_t>{66, 117, 106, 122, 68, 97, 105, 127}));
}

TEST(DataResample, WindowIsABlockOfTheFullResize) {
  for (const auto f : {ResampleFilter::bicubic, ResampleFilter::bilinear}) {
    for (const int c : {1, 3}) {
      const int h = 37, w = 53, oh = 19, ow = 23;
      const auto full = resize(h, w, c, oh, ow, f);
      const auto src = pattern(h, w, c);
      for (const Window win :
           {Window{0, 0, 5, 7}, Window{3, 4, 11, 13}, Window{18, 22, 1, 1}, Window{2, 0, 17, 23}}) {
        std::vector<std::uint8_t> part;
        resample_pil(src.data(), h, w, c, oh, ow, f, win, part);
        ASSERT_EQ(part.size(), static_cast<std::size_t>(win.height * win.width * c));
        for (int y = 0; y < win.height; ++y)
          for (int x = 0; x < win.width * c; ++x)
            ASSERT_EQ(part[static_cast<std::size_t>(y * win.width * c + x)],
                      full[static_cast<std::size_t>((win.top + y) * ow * c + win.left * c + x)])
                << "window at (" << win.top << ", " << win.left << "), y " << y << ", x " << x;
      }
    }
  }
}

TEST(DataResample, ConstantStaysConstantAndSameSizeIsACopy) {
  for (const auto f : {ResampleFilter::bicubic, ResampleFilter::bilinear}) {
    const std::vector<std::uint8_t> grey(31 * 17, 201);
    std::vector<std::uint8_t> out;
    resample_pil(grey.data(), 31, 17, 1, 9, 40, f, Window{0, 0, 9, 40}, out);
    for (auto v : out) ASSERT_EQ(v, 201);
    const auto src = pattern(6, 5, 3);
    resample_pil(src.data(), 6, 5, 3, 6, 5, f, Window{0, 0, 6, 5}, out);
    EXPECT_EQ(out, src);
  }
}

TEST(DataResample, BadSizesAndWindowsAreInputErrors) {
  const auto src = pattern(4, 4, 3);
  std::vector<std::uint8_t> out;
  EXPECT_THROW(
      resample_pil(src.data(), 4, 4, 3, 0, 2, ResampleFilter::bicubic, Window{0, 0, 1, 1}, out),
      prh::InputError);
  EXPECT_THROW(
      resample_pil(src.data(), 4, 4, 2, 2, 2, ResampleFilter::bicubic, Window{0, 0, 1, 1}, out),
      prh::InputError);
  EXPECT_THROW(
      resample_pil(src.data(), 4, 4, 3, 2, 2, ResampleFilter::bicubic, Window{1, 1, 2, 2}, out),
      prh::InputError);
}

prh::data::Image photo_like(int h, int w) {
  prh::data::Image img;
  img.height = h;
  img.width = w;
  img.channels = 3;
  img.pixels = pattern(h, w, 3);
  return img;
}

TEST(DataResample, TransformUsesPilByDefaultAndOpenCvOnRequest) {
  prh::data::Transform t;
  t.resize = 24;
  t.crop = 20;
  t.interpolation = "bicubic";
  EXPECT_EQ(t.resampler, "pil");
  const auto img = photo_like(45, 60);  // -> 24 x 32, crop 20 x 20 at (2, 6)
  std::vector<float> pil, cv;
  prh::data::apply(t, img, pil);
  // The PIL path: the crop of PIL's resize, scaled and normalised.
  std::vector<std::uint8_t> full;
  resample_pil(img.pixels.data(), 45, 60, 3, 24, 32, ResampleFilter::bicubic, Window{0, 0, 24, 32},
               full);
  ASSERT_EQ(pil.size(), 3u * 20u * 20u);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 20; ++x) {
        const float v =
            static_cast<float>(full[static_cast<std::size_t>(((y + 2) * 32 + x + 6) * 3 + c)]) /
            255.0f;
        ASSERT_EQ(pil[static_cast<std::size_t>((c * 20 + y) * 20 + x)],
                  (v - t.mean[static_cast<std::size_t>(c)]) / t.std[static_cast<std::size_t>(c)]);
      }
  t.resampler = "opencv";
  prh::data::apply(t, img, cv);
  ASSERT_EQ(cv.size(), pil.size());
  EXPECT_NE(cv, pil);  // OpenCV's cubic does not antialias
  t.resampler = "area";
  try {
    prh::data::apply(t, img, cv);
    ADD_FAILURE() << "no InputError";
  } catch (const prh::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'resampler'"), std::string::npos) << e.what();
  }
}

}  // namespace
