// Noise and blend sources: determinism, distributions, blend end points.

#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "prh/config/config.hpp"
#include "prh/data/transform.hpp"
#include "test_data_helpers.hpp"

namespace {

using namespace data_test;
using nlohmann::json;
using prh::data::make_source;

json noise(std::int64_t count, int h, int w, int c, std::uint64_t seed,
           const std::string& dist = "uniform", double mean = 127.5, double sd = 64) {
  return canonical({{"kind", "noise"},
                    {"count", count},
                    {"height", h},
                    {"width", w},
                    {"channels", c},
                    {"seed", seed},
                    {"distribution", dist},
                    {"mean", mean},
                    {"std", sd}});
}

void moments(const std::vector<std::uint8_t>& v, double& mean, double& sd) {
  double s = 0, s2 = 0;
  for (auto b : v) s += b, s2 += double(b) * b;
  mean = s / v.size();
  sd = std::sqrt(s2 / v.size() - mean * mean);
}

TEST(DataNoise, Splitmix64KnownValues) {
  // The first outputs of the reference splitmix64 generator from state 0.
  EXPECT_EQ(prh::data::detail::splitmix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(prh::data::detail::splitmix64(0x9e3779b97f4a7c15ULL), 0x6e789e6aa1b965f4ULL);
}

TEST(DataNoise, PureFunctionOfSeedAndIndex) {
  const auto a = make_source(noise(10, 6, 5, 3, 42), "a");
  const auto b = make_source(noise(10, 6, 5, 3, 42), "b");
  const auto other_seed = make_source(noise(10, 6, 5, 3, 43), "c");
  const auto more = make_source(noise(1000, 6, 5, 3, 42), "d");
  ASSERT_EQ(a->size(), 10);
  for (std::int64_t i = 0; i < 10; ++i) {
    const auto x = a->get(i);
    EXPECT_EQ(x.image.height, 6);
    EXPECT_EQ(x.image.width, 5);
    EXPECT_EQ(x.image.channels, 3);
    EXPECT_EQ(x.image.pixels.size(), 90u);
    EXPECT_EQ(x.label, -1);
    EXPECT_EQ(a->label(i), -1);
    EXPECT_EQ(x.id, "noise:" + std::to_string(i));
    EXPECT_EQ(a->id(i), x.id);
    EXPECT_EQ(x.image.pixels, b->get(i).image.pixels);     // same spec, another object
    EXPECT_EQ(x.image.pixels, a->get(i).image.pixels);     // same call twice
    EXPECT_EQ(x.image.pixels, more->get(i).image.pixels);  // independent of count
    EXPECT_NE(x.image.pixels, other_seed->get(i).image.pixels);
    if (i > 0) {
      EXPECT_NE(x.image.pixels, a->get(i - 1).image.pixels);
    }
  }
  // Access order does not matter (random access).
  EXPECT_EQ(more->get(999).image.pixels,
            make_source(noise(1000, 6, 5, 3, 42), "e")->get(999).image.pixels);
}

TEST(DataNoise, UniformBytesAreTheTopByteOfMt19937_64) {
  // Independent spelling of the documented recipe, and pinned bytes (the same on
  // every platform: mt19937_64 and splitmix64 are fully specified).
  const auto src = make_source(noise(3, 2, 2, 1, 7), "u");
  const auto px = src->get(2).image.pixels;
  std::mt19937_64 rng(prh::data::detail::splitmix64(prh::data::detail::splitmix64(7) + 2));
  for (int k = 0; k < 4; ++k) EXPECT_EQ(px[static_cast<std::size_t>(k)], rng() >> 56) << k;
}

TEST(DataNoise, UniformMeanAndGaussianMoments) {
  double m = 0, sd = 0;
  const auto u = make_source(noise(2, 64, 64, 3, 1), "u");
  moments(u->get(0).image.pixels, m, sd);
  EXPECT_NEAR(m, 127.5, 3.0);
  EXPECT_NEAR(sd, 73.9, 2.0);  // 256 / sqrt(12)

  const auto g = make_source(noise(2, 100, 100, 1, 5, "gaussian", 100.0, 20.0), "g");
  const auto img = g->get(1).image;
  EXPECT_EQ(img.channels, 1);
  moments(img.pixels, m, sd);
  EXPECT_NEAR(m, 100.0, 1.0);
  EXPECT_NEAR(sd, 20.0, 1.0);
  EXPECT_EQ(
      img.pixels,
      make_source(noise(2, 100, 100, 1, 5, "gaussian", 100.0, 20.0), "h")->get(1).image.pixels);

  // Clamped to 0..255 and rounded; std 0 gives the mean everywhere.
  const auto wide = make_source(noise(1, 50, 50, 3, 2, "gaussian", 250.0, 100.0), "w");
  int at_top = 0;
  for (auto b : wide->get(0).image.pixels) at_top += b == 255;
  EXPECT_GT(at_top, 1000);
  const auto flat = make_source(noise(1, 3, 3, 3, 2, "gaussian", 99.6, 0.0), "f");
  for (auto b : flat->get(0).image.pixels) EXPECT_EQ(b, 100);
}

TEST(DataNoise, BadSpecs) {
  EXPECT_TRUE(has_all(
      input_error([] {
        make_source(json{{"kind", "noise"}, {"count", 0}, {"height", 2}, {"width", 2}}, "set 'n'");
      }),
      {"set 'n'", "'count'"}));
  EXPECT_TRUE(has_all(
      input_error([] {
        make_source(
            json{{"kind", "noise"}, {"count", 1}, {"height", 2}, {"width", 2}, {"channels", 2}},
            "set 'n'");
      }),
      {"set 'n'", "'channels'"}));
  EXPECT_TRUE(has_all(input_error([] {
                        make_source(json{{"kind", "noise"},
                                         {"count", 1},
                                         {"height", 2},
                                         {"width", 2},
                                         {"distribution", "poisson"}},
                                    "set 'n'");
                      }),
                      {"set 'n'", "'distribution'"}));
}

// --- Blend ------------------------------------------------------------------------

json blend(const json& base, double alpha, std::uint64_t seed, const std::string& dist = "uniform",
           double mean = 127.5, double sd = 64) {
  return canonical({{"kind", "blend"},
                    {"base", base},
                    {"alpha", alpha},
                    {"seed", seed},
                    {"distribution", dist},
                    {"mean", mean},
                    {"std", sd}});
}

TEST(DataBlend, AlphaZeroIsTheBaseAndAlphaOneIsTheNoise) {
  const json base = noise(4, 5, 7, 3, 1);
  const auto b = make_source(base, "b");
  const auto n = make_source(noise(4, 5, 7, 3, 9), "n");
  const auto g = make_source(noise(4, 5, 7, 3, 9, "gaussian", 30.0, 10.0), "g");
  const auto zero = make_source(blend(base, 0.0, 9), "z");
  const auto one = make_source(blend(base, 1.0, 9), "o");
  const auto one_g = make_source(blend(base, 1.0, 9, "gaussian", 30.0, 10.0), "og");
  ASSERT_EQ(zero->size(), 4);
  for (std::int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(zero->get(i).image.pixels, b->get(i).image.pixels) << i;
    EXPECT_EQ(one->get(i).image.pixels, n->get(i).image.pixels) << i;
    EXPECT_EQ(one_g->get(i).image.pixels, g->get(i).image.pixels) << i;
  }
  EXPECT_EQ(one->id(2), "blend(1):noise:2");
  EXPECT_EQ(one->get(2).id, "blend(1):noise:2");
  EXPECT_EQ(one->label(2), -1);
}

TEST(DataBlend, MixesPerPixelAndKeepsLabelsOfTheBase) {
  TempDir dir;
  write_image(dir.file("imgs/g.png"), pattern(3, 4, 1, 5));
  write_image(dir.file("imgs/c.png"), pattern(2, 2, 3, 8));
  write_text(dir.file("list.txt"), "imgs/g.png 4\nimgs/c.png 6\n");
  const json base = canonical({{"kind", "list"}, {"file", dir.file("list.txt")}});
  const auto src = make_source(blend(base, 0.25, 3), "bl");
  ASSERT_EQ(src->size(), 2);
  EXPECT_EQ(src->label(0), 4);
  EXPECT_EQ(src->label(1), 6);
  EXPECT_EQ(src->id(1), "blend(0.25):" + dir.file("imgs/c.png"));
  const auto item = src->get(0);
  EXPECT_EQ(item.label, 4);
  EXPECT_EQ(item.id, src->id(0));
  ASSERT_EQ(item.image.channels, 1);  // noise takes the base image's size and channels
  ASSERT_EQ(item.image.pixels.size(), 12u);
  std::vector<std::uint8_t> nz(12);
  prh::data::detail::Noise p;
  p.seed = 3;
  prh::data::detail::noise_bytes(p, 0, nz.size(), nz.data());
  const auto base_px = pattern(3, 4, 1, 5).pixels;
  for (std::size_t k = 0; k < 12; ++k)
    EXPECT_EQ(item.image.pixels[k], std::lround(0.75 * base_px[k] + 0.25 * nz[k])) << k;
  EXPECT_EQ(src->get(1).image.channels, 3);
}

TEST(DataBlend, NeedsABase) {
  EXPECT_TRUE(has_all(input_error([] {
                        make_source(json{{"kind", "blend"}, {"alpha", 0.5}}, "set 'b'");
                      }),
                      {"set 'b'", "'base'"}));
  EXPECT_TRUE(
      has_all(input_error([] {
                make_source(json{{"kind", "blend"}, {"base", {{"kind", "nope"}}}}, "set 'b'");
              }),
              {"set 'b'.base", "unknown source kind 'nope'"}));
}

}  // namespace

namespace {

// get() and apply() are const / pure: many threads reading at once see the
// same bytes as one thread.
TEST(DataThreads, ConcurrentGetAndApplyMatchSerial) {
  TempDir dir;
  for (int k = 0; k < 6; ++k)
    write_image(dir.file("f/c" + std::to_string(k % 2) + "/" + std::to_string(k) + ".png"),
                pattern(20 + k, 30, 3, k));
  const auto base = canonical({{"kind", "folder"}, {"root", (dir.path() / "f").string()}});
  const auto src = make_source(blend(base, 0.5, 4), "t");
  prh::data::Transform t;
  t.resize = 24;
  t.crop = 20;
  std::vector<std::vector<float>> serial(static_cast<std::size_t>(src->size()));
  for (std::int64_t i = 0; i < src->size(); ++i)
    prh::data::apply(t, src->get(i).image, serial[static_cast<std::size_t>(i)]);
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th)
    threads.emplace_back([&, th] {
      std::vector<float> out;
      for (int rep = 0; rep < 20; ++rep)
        for (std::int64_t i = 0; i < src->size(); ++i) {
          prh::data::apply(t, src->get((i + th) % src->size()).image, out);
          bad[static_cast<std::size_t>(th)] +=
              out != serial[static_cast<std::size_t>((i + th) % src->size())];
        }
    });
  for (auto& th : threads) th.join();
  for (int th = 0; th < 4; ++th) EXPECT_EQ(bad[static_cast<std::size_t>(th)], 0) << th;
}

}  // namespace
