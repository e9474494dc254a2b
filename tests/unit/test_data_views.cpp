// Views (include/prh/data/views.hpp, docs/store.md "Views"): which image sets
// are rows of another. Every view found must give the base's images bit for
// bit at its rows; the sets that are not views must not be found.

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prh/config/config.hpp"
#include "prh/data/views.hpp"
#include "test_data_helpers.hpp"

namespace {

using nlohmann::json;
using prh::data::make_source;
using prh::data::view_rows;

json shapes(int count) {
  return data_test::canonical({{"kind", "shapes"}, {"count", count}, {"seed", 3}, {"size", 8}});
}
json noise(int count, int seed, int size = 8) {
  return data_test::canonical({{"kind", "noise"},
                               {"count", count},
                               {"height", size},
                               {"width", size},
                               {"channels", 1},
                               {"seed", seed}});
}

// The image sets of a config with sets `listed` (name -> source) and one sweep.
std::vector<prh::config::ImageSet> sets_of(const std::vector<std::pair<std::string, json>>& listed,
                                           const json& sweep) {
  json sets = json::array();
  for (const auto& [name, src] : listed) sets.push_back({{"name", name}, {"source", src}});
  const json cfg = {{"store", "s.h5"},
                    {"image_sets", sets},
                    {"models", json::array({{{"name", "m"}, {"path", "m.pt"}}})},
                    {"sweeps", json::array({sweep})}};
  return prh::config::parse(cfg.dump(), "views-test").image_sets;
}

const prh::config::ImageSet& set_named(const std::vector<prh::config::ImageSet>& sets,
                                       const std::string& name) {
  for (const auto& s : sets)
    if (s.name == name) return s;
  throw std::runtime_error("no set " + name);
}

// view_rows of `s` against `base`; when found, every image is the base's at
// its row, pixel for pixel, and of the same shape.
std::optional<std::vector<std::int64_t>> checked_view(const prh::config::ImageSet& s,
                                                      const prh::config::ImageSet& base) {
  const auto src = make_source(s.source.spec, s.name);
  const auto b = make_source(base.source.spec, base.name);
  auto rows = view_rows(s.source.spec, base.source.spec, *b, s.name);
  if (!rows) return rows;
  EXPECT_EQ(static_cast<std::int64_t>(rows->size()), src->size()) << s.name;
  for (std::int64_t i = 0; i < src->size(); ++i) {
    const auto r = (*rows)[static_cast<std::size_t>(i)];
    EXPECT_TRUE(r >= 0 && r < b->size()) << s.name << " row " << r;
    const auto x = src->get(i).image, y = b->get(r).image;
    EXPECT_EQ(x.height, y.height);
    EXPECT_EQ(x.width, y.width);
    EXPECT_EQ(x.channels, y.channels);
    EXPECT_EQ(x.pixels, y.pixels) << s.name << ": image " << i << " is not the base's row " << r;
  }
  return rows;
}

TEST(DataViews, SubsampleLevelsAreRowsOfTheBase) {
  const json sw = {{"name", "n"}, {"base", "b"}, {"family", "subsample"},
                   {"seed", 7},   {"limit", 30}, {"levels", {5, 12, 30}}};
  const auto sets = sets_of({{"b", shapes(40)}}, sw);
  std::vector<std::int64_t> prev;
  for (const char* name : {"b@subsample=5", "b@subsample=12", "b@subsample=30"}) {
    const auto rows = checked_view(set_named(sets, name), set_named(sets, "b"));
    ASSERT_TRUE(rows) << name;
    // Nested: a smaller level's rows are the first of a larger one's.
    EXPECT_TRUE(std::equal(prev.begin(), prev.end(), rows->begin())) << name;
    for (auto r : *rows) EXPECT_LT(r, 30) << name << ": the sweep's limit comes first";
    prev = *rows;
  }
  // Level 30 of the first 30: a permutation of them, not the identity.
  std::vector<std::int64_t> sorted = prev;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 30; ++i) EXPECT_EQ(sorted[static_cast<std::size_t>(i)], i);
  EXPECT_NE(prev, sorted);
}

TEST(DataViews, BlendEndPoints) {
  const json sw = {{"name", "t"}, {"base", "b"}, {"family", "blend"},
                   {"seed", 1},   {"limit", 10}, {"levels", {0, 0.5, 1}}};
  const auto sets = sets_of({{"b", shapes(20)}, {"u", noise(20, 1)}, {"v", noise(20, 2)}}, sw);
  const auto& b = set_named(sets, "b");
  // Blend 0: the first 10 images of the base.
  const auto zero = checked_view(set_named(sets, "b@blend=0"), b);
  ASSERT_TRUE(zero);
  for (std::int64_t i = 0; i < 10; ++i) EXPECT_EQ((*zero)[static_cast<std::size_t>(i)], i);
  EXPECT_FALSE(checked_view(set_named(sets, "b@blend=0.5"), b));
  EXPECT_FALSE(checked_view(set_named(sets, "b@blend=0.5"), set_named(sets, "u")));
  // Blend 1: the noise set of the same seed, not another seed's, not the base.
  EXPECT_TRUE(checked_view(set_named(sets, "b@blend=1"), set_named(sets, "u")));
  EXPECT_FALSE(checked_view(set_named(sets, "b@blend=1"), set_named(sets, "v")));
  EXPECT_FALSE(checked_view(set_named(sets, "b@blend=1"), b));
}

TEST(DataViews, BlendOneNeedsTheNoiseSetsShape) {
  const json sw = {{"name", "t"}, {"base", "b"}, {"family", "blend"}, {"seed", 1}, {"levels", {1}}};
  // Noise images of 9 x 9 are other bytes than the 8 x 8 shapes' noise.
  const auto sets = sets_of({{"b", shapes(10)}, {"u", noise(20, 1, 9)}}, sw);
  EXPECT_FALSE(checked_view(set_named(sets, "b@blend=1"), set_named(sets, "u")));
  // More images than the noise set has: not rows of it.
  const auto more = sets_of({{"b", shapes(30)}, {"u", noise(20, 1)}}, sw);
  EXPECT_FALSE(checked_view(set_named(more, "b@blend=1"), set_named(more, "u")));
}

TEST(DataViews, PatchShuffleThatMovesNothing) {
  const json sw = {
      {"name", "p"}, {"base", "b"}, {"family", "patch_shuffle"}, {"levels", {8, 5, 4}}};
  const auto sets = sets_of({{"b", shapes(12)}}, sw);
  const auto& b = set_named(sets, "b");
  EXPECT_TRUE(checked_view(set_named(sets, "b@patch_shuffle=8"), b));   // the whole image
  EXPECT_TRUE(checked_view(set_named(sets, "b@patch_shuffle=5"), b));   // one full patch
  EXPECT_FALSE(checked_view(set_named(sets, "b@patch_shuffle=4"), b));  // four: permuted
}

TEST(DataViews, PhaseScrambleZeroIsNotAView) {
  const json sw = {{"name", "s"}, {"base", "b"}, {"family", "phase_scramble"}, {"levels", {0}}};
  const auto sets = sets_of({{"b", shapes(6)}}, sw);
  EXPECT_FALSE(checked_view(set_named(sets, "b@phase_scramble=0"), set_named(sets, "b")));
}

TEST(DataViews, PrefixesAndOtherSets) {
  const prh::config::ImageSet small{"s", {"noise", noise(5, 4)}, std::nullopt};
  const prh::config::ImageSet big{"l", {"noise", noise(9, 4)}, std::nullopt};
  const prh::config::ImageSet other{"o", {"noise", noise(9, 5)}, std::nullopt};
  const prh::config::ImageSet same{"t", {"noise", noise(9, 4)}, std::nullopt};
  EXPECT_TRUE(checked_view(small, big));
  EXPECT_FALSE(checked_view(big, small));  // more images than the base
  EXPECT_FALSE(checked_view(other, big));  // another seed
  EXPECT_TRUE(checked_view(same, big));    // the same spec
  EXPECT_FALSE(checked_view(
      set_named(sets_of({{"b", shapes(6)}},
                        {{"name", "n"}, {"base", "b"}, {"family", "subsample"}, {"levels", {3}}}),
                "b@subsample=3"),
      big));  // a subsample of another base
}

}  // namespace
