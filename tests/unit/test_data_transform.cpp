// Transforms, checked by hand on tiny images.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prh/data/transform.hpp"
#include "test_data_helpers.hpp"

namespace {

using namespace data_test;
using prh::data::apply;
using prh::data::Transform;

Transform plain(int channels) {
  Transform t;
  t.resize = 0;
  t.crop = 0;
  t.channels = channels;
  t.mean.assign(static_cast<std::size_t>(channels), 0.0f);
  t.std.assign(static_cast<std::size_t>(channels), 1.0f);
  return t;
}

void expect_values(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-6) << "at " << k;
}

TEST(DataTransform, NormaliseTwoByTwoToChw) {
  const Image img =
      make_image(2, 2, 3, {0, 51, 255, /**/ 255, 102, 0, /**/ 153, 204, 51, /**/ 255, 255, 255});
  Transform t = plain(3);
  t.mean = {0.5f, 0.4f, 0.0f};
  t.std = {0.5f, 0.2f, 1.0f};
  std::vector<float> out(100, 9.0f);  // resized by apply
  apply(t, img, out);
  // R: 0 1 .6 1 -> (x - .5) / .5; G: .2 .4 .8 1 -> (x - .4) / .2; B: 1 0 .2 1.
  expect_values(out, {-1, 1, 0.2f, 1, /**/ -1, 0, 2, 3, /**/ 1, 0, 0.2f, 1});
  EXPECT_EQ(t.out_height(img), 2);
  EXPECT_EQ(t.out_width(img), 2);

  // Crop 1 of 2: offset round(0.5) = 0 (halves to even, like torchvision).
  t.crop = 1;
  apply(t, img, out);
  expect_values(out, {-1, -1, 1});
  EXPECT_EQ(t.out_height(img), 1);
}

TEST(DataTransform, GreyToRgbReplicates) {
  const Image img = make_image(3, 3, 1, {10, 20, 30, 40, 50, 60, 70, 80, 90});
  Transform t;  // ImageNet mean/std, 3 channels
  t.resize = 0;
  t.crop = 1;
  std::vector<float> out;
  apply(t, img, out);
  const float v = 50.0f / 255.0f;
  expect_values(out, {(v - 0.485f) / 0.229f, (v - 0.456f) / 0.224f, (v - 0.406f) / 0.225f});
}

TEST(DataTransform, RgbToGreyIsRoundedLuma) {
  const Image img =
      make_image(1, 4, 3, {255, 0, 0, /**/ 0, 255, 0, /**/ 0, 0, 255, /**/ 10, 20, 30});
  std::vector<float> out;
  apply(plain(1), img, out);
  // round(.299 R + .587 G + .114 B): 76.2 -> 76, 149.7 -> 150, 29.1 -> 29, 18.2 -> 18.
  expect_values(out, {76 / 255.0f, 150 / 255.0f, 29 / 255.0f, 18 / 255.0f});
}

TEST(DataTransform, CentreCropOffsetsFollowTorchvision) {
  // 7 x 5, value 10 r + c. Crop 2: top = round(2.5) = 2, left = round(1.5) = 2.
  std::vector<std::uint8_t> px;
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 5; ++c) px.push_back(static_cast<std::uint8_t>(10 * r + c));
  Transform t = plain(1);
  t.crop = 2;
  std::vector<float> out;
  apply(t, make_image(7, 5, 1, px), out);
  expect_values(out, {22 / 255.0f, 23 / 255.0f, 32 / 255.0f, 33 / 255.0f});
  // 3 x 4: top = round(0.5) = 0, left = round(1.0) = 1.
  px.resize(12);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      px[static_cast<std::size_t>(4 * r + c)] = static_cast<std::uint8_t>(10 * r + c);
  apply(t, make_image(3, 4, 1, px), out);
  expect_values(out, {1 / 255.0f, 2 / 255.0f, 11 / 255.0f, 12 / 255.0f});
}

TEST(DataTransform, ResizeKeepsAspectWithShorterSideAtResize) {
  Transform t = plain(1);
  t.resize = 20;
  const Image wide = pattern(40, 60, 1);
  const Image tall = pattern(60, 40, 1);
  EXPECT_EQ(t.out_height(wide), 20);
  EXPECT_EQ(t.out_width(wide), 30);
  EXPECT_EQ(t.out_height(tall), 30);
  EXPECT_EQ(t.out_width(tall), 20);
  std::vector<float> out;
  apply(t, wide, out);
  EXPECT_EQ(out.size(), 20u * 30u);
  // Long side int(resize * long / short), torchvision's rule: 4 * 5 / 3 = 6.67 -> 6.
  t.resize = 4;
  const Image small = pattern(3, 5, 1);
  EXPECT_EQ(t.out_height(small), 4);
  EXPECT_EQ(t.out_width(small), 6);
  apply(t, small, out);
  EXPECT_EQ(out.size(), 24u);
  // Resize then crop.
  Transform rc = plain(3);
  rc.resize = 20;
  rc.crop = 16;
  EXPECT_EQ(rc.out_height(wide), 16);
  EXPECT_EQ(rc.out_width(tall), 16);
  apply(rc, wide, out);
  EXPECT_EQ(out.size(), 3u * 16u * 16u);
}

TEST(DataTransform, ResizeOfAConstantStaysConstantAndSameSizeIsExact) {
  Image flat = pattern(9, 13, 3);
  for (auto& b : flat.pixels) b = 77;
  for (const char* interp : {"bicubic", "bilinear"}) {
    Transform t = plain(3);
    t.resize = 31;
    t.interpolation = interp;
    std::vector<float> out;
    apply(t, flat, out);
    ASSERT_EQ(out.size(), 3u * 31u * 44u);  // int(31 * 13 / 9) = 44
    for (float v : out) ASSERT_NEAR(v, 77 / 255.0f, 1e-6) << interp;
  }
  // Shorter side already at `resize`: pixels unchanged.
  const Image img = pattern(4, 6, 1, 3);
  Transform t = plain(1);
  t.resize = 4;
  std::vector<float> out;
  apply(t, img, out);
  ASSERT_EQ(out.size(), 24u);
  for (std::size_t k = 0; k < 24; ++k) EXPECT_FLOAT_EQ(out[k], img.pixels[k] / 255.0f);
}

TEST(DataTransform, BicubicAndBilinearDiffer) {
  const Image img = pattern(4, 4, 1, 1);
  Transform a = plain(1), b = plain(1);
  a.resize = b.resize = 11;
  b.interpolation = "bilinear";
  std::vector<float> oa, ob;
  apply(a, img, oa);
  apply(b, img, ob);
  ASSERT_EQ(oa.size(), ob.size());
  EXPECT_NE(oa, ob);
}

TEST(DataTransform, InvalidSettingsAreInputErrors) {
  const Image img = pattern(8, 10, 3);
  std::vector<float> out;
  Transform t = plain(3);
  t.mean = {0.5f, 0.5f};
  EXPECT_TRUE(has_all(input_error([&] { apply(t, img, out); }), {"'mean'", "3"}));
  t = plain(3);
  t.std[1] = 0.0f;
  EXPECT_TRUE(has_all(input_error([&] { apply(t, img, out); }), {"'std'", "> 0"}));
  t = plain(3);
  t.resize = 6;
  t.crop = 7;
  EXPECT_TRUE(has_all(input_error([&] { apply(t, img, out); }), {"crop 7 x 7", "6 x 7"}));
  t = plain(3);
  t.crop = 9;  // no resize: 8 rows only
  EXPECT_TRUE(has_all(input_error([&] { apply(t, img, out); }), {"crop 9 x 9", "larger"}));
  t = plain(3);
  t.resize = 5;
  t.interpolation = "nearest";
  EXPECT_TRUE(has_all(input_error([&] { apply(t, img, out); }), {"'interpolation'", "nearest"}));
  t = plain(3);
  Image broken = img;
  broken.pixels.pop_back();
  EXPECT_TRUE(has_all(input_error([&] { apply(t, broken, out); }), {"bytes"}));
}

}  // namespace
