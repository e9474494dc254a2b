// The generated sources (shapes, patches): every image a pure function of
// (seed, index), random access, labels as drawn, clear errors.

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_data_helpers.hpp"

namespace {

using namespace data_test;
using nlohmann::json;
using prh::data::make_source;

json shapes(std::int64_t count, std::uint64_t seed, int size = 28) {
  return canonical({{"kind", "shapes"}, {"count", count}, {"seed", seed}, {"size", size}});
}

TEST(DataShapes, PureFunctionOfSeedAndIndexInAnyOrder) {
  const auto a = make_source(shapes(200, 7), "a");
  const auto b = make_source(shapes(5000, 7), "b");  // more images: the first are the same
  const auto other = make_source(shapes(200, 8), "c");
  ASSERT_EQ(a->size(), 200);
  // Read a backwards and b at scattered indices: no state between reads.
  std::vector<prh::data::Item> fwd;
  for (std::int64_t i = 0; i < 200; ++i) fwd.push_back(a->get(i));
  for (std::int64_t i = 199; i >= 0; --i) {
    const auto x = a->get(i);
    EXPECT_EQ(x.image.pixels, fwd[static_cast<std::size_t>(i)].image.pixels) << i;
    EXPECT_EQ(x.label, fwd[static_cast<std::size_t>(i)].label);
  }
  int differ = 0;
  for (std::int64_t i : {150, 3, 77, 0, 199}) {
    const auto y = b->get(i);
    EXPECT_EQ(y.image.pixels, fwd[static_cast<std::size_t>(i)].image.pixels) << i;
    EXPECT_EQ(y.label, a->label(i));
    EXPECT_EQ(y.id, "shapes:" + std::to_string(i));
    differ += other->get(i).image.pixels != y.image.pixels;
  }
  EXPECT_EQ(differ, 5);  // another seed, other images
}

TEST(DataShapes, LabelledGreyImagesOfEveryClass) {
  const auto a = make_source(shapes(500, 1), "a");
  std::vector<int> per(5, 0);
  std::set<std::vector<std::uint8_t>> distinct;
  for (std::int64_t i = 0; i < 500; ++i) {
    const auto x = a->get(i);
    ASSERT_EQ(x.image.height, 28);
    ASSERT_EQ(x.image.width, 28);
    ASSERT_EQ(x.image.channels, 1);
    ASSERT_GE(x.label, 0);
    ASSERT_LT(x.label, 5);
    EXPECT_EQ(a->label(i), x.label);
    ++per[static_cast<std::size_t>(x.label)];
    distinct.insert(x.image.pixels);
    // A shape brighter than its background: the image has contrast.
    const auto [lo, hi] = std::minmax_element(x.image.pixels.begin(), x.image.pixels.end());
    EXPECT_GT(*hi - *lo, 40) << i;
  }
  for (int c = 0; c < 5; ++c) EXPECT_GT(per[static_cast<std::size_t>(c)], 60) << c;
  EXPECT_EQ(distinct.size(), 500u);
}

TEST(DataShapes, ShapesDifferInArea) {
  // Monte Carlo-free check of the geometry: areas on a fine grid in units of r^2.
  std::vector<double> area(5, 0);
  const int n = 400;
  for (int s = 0; s < 5; ++s)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        area[static_cast<std::size_t>(s)] +=
            prh::data::detail::shape_contains(s, -1 + 2 * (i + 0.5) / n, -1 + 2 * (j + 0.5) / n);
  for (auto& a : area) a *= 4.0 / (n * n);
  EXPECT_NEAR(area[0], M_PI, 0.01);                      // disc
  EXPECT_NEAR(area[1], 1.6 * 1.6, 0.01);                 // square of side 1.6
  EXPECT_NEAR(area[2], 3 * std::sqrt(3.0) / 4, 0.01);    // triangle in the unit circle
  EXPECT_NEAR(area[3], M_PI * (1 - 0.55 * 0.55), 0.01);  // ring
  EXPECT_NEAR(area[4], 2 * 0.6 * 2 - 0.6 * 0.6, 0.01);   // cross
}

TEST(DataPatches, RandomAccessCropsOfThePhotographs) {
  TempDir dir;
  // Two "photographs": a horizontal ramp and a constant.
  Image ramp = pattern(120, 150, 3, 1), flat = pattern(100, 100, 1, 0);
  for (int y = 0; y < 120; ++y)
    for (int x = 0; x < 150; ++x)
      for (int c = 0; c < 3; ++c)
        ramp.pixels[static_cast<std::size_t>((y * 150 + x) * 3 + c)] = static_cast<std::uint8_t>(x);
  std::fill(flat.pixels.begin(), flat.pixels.end(), std::uint8_t{77});
  write_image(dir.file("ramp.png"), ramp);
  write_image(dir.file("flat.png"), flat);
  const json spec = canonical({{"kind", "patches"},
                               {"files", {dir.file("ramp.png"), dir.file("flat.png")}},
                               {"count", 300},
                               {"min_crop", 28},
                               {"max_crop", 84},
                               {"seed", 3}});
  const auto a = make_source(spec, "a");
  const auto b = make_source(spec, "b");
  ASSERT_EQ(a->size(), 300);
  int from_flat = 0;
  for (std::int64_t i = 299; i >= 0; i -= 7) {
    const auto x = a->get(i), y = b->get(i);
    ASSERT_EQ(x.image.height, 28);
    ASSERT_EQ(x.image.channels, 1);
    EXPECT_EQ(x.image.pixels, y.image.pixels);
    EXPECT_EQ(x.id, a->id(i));
    EXPECT_EQ(x.label, -1);
    if (x.id.find(":flat:") != std::string::npos) {
      ++from_flat;
      for (auto v : x.image.pixels) EXPECT_EQ(v, 77);
    } else {
      // A ramp stays a ramp: non-decreasing along each row.
      for (int r = 0; r < 28; ++r)
        for (int c = 1; c < 28; ++c)
          EXPECT_LE(x.image.pixels[static_cast<std::size_t>(r * 28 + c - 1)],
                    x.image.pixels[static_cast<std::size_t>(r * 28 + c)]);
    }
  }
  EXPECT_GT(from_flat, 5);
  EXPECT_LT(from_flat, 38);
}

TEST(DataPatches, AreaResizeAveragesExactly) {
  // 4 x 4 -> 2 x 2: each output is the mean of a 2 x 2 block.
  std::vector<std::uint8_t> src = {0, 2, 10, 10, 4, 6, 10, 10, 100, 100, 1, 1, 100, 100, 3, 3};
  const auto out = prh::data::detail::area_resize(src.data(), 4, 0, 0, 4, 2);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{3, 10, 100, 2}));
}

TEST(DataPatches, ClearErrors) {
  TempDir dir;
  write_image(dir.file("small.png"), pattern(20, 20, 1));
  const auto msg = input_error([&] {
    make_source(canonical({{"kind", "patches"}, {"files", {dir.file("small.png")}}, {"count", 3}}),
                "image_sets[2] 'natural'");
  });
  EXPECT_TRUE(has_all(msg, {"image_sets[2] 'natural'", "small.png", "smaller than max_crop 96"}));
  std::vector<std::string> problems;
  prh::config::parse_source({{"kind", "patches"}, {"count", 3}}, "image_sets[1].source", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(has_all(problems[0], {"image_sets[1].source.files", "required"}));
}

}  // namespace
