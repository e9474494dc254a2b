// The `subsample` sweep family and source kind: level n is the first n images
// of one seeded permutation of the base, so levels are nested; the
// permutation is deterministic; a level above the base's count is refused.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prh/config/config.hpp"
#include "test_data_helpers.hpp"

namespace {

using nlohmann::json;
using prh::data::make_source;

// A noise base of n 4 x 4 grey images (image i a pure function of (seed, i)).
json noise_base(int n) {
  return data_test::canonical(
      {{"kind", "noise"}, {"count", n}, {"height", 4}, {"width", 4}, {"channels", 1}});
}

// The config of one subsample sweep over `base` (set "b").
json sweep_config(const json& base, const json& levels, std::int64_t seed) {
  const json sw = {
      {"name", "n"}, {"base", "b"}, {"family", "subsample"}, {"seed", seed}, {"levels", levels}};
  return {{"store", "s.h5"},
          {"image_sets", json::array({{{"name", "b"}, {"source", base}}})},
          {"models", json::array({{{"name", "m"}, {"path", "m.pt"}}})},
          {"sweeps", json::array({sw})}};
}

std::vector<prh::config::ImageSet> levels_of(const json& base, const json& levels,
                                             std::int64_t seed = 0) {
  auto s = prh::config::parse(sweep_config(base, levels, seed).dump(), "subsample-test");
  return {s.image_sets.begin() + 1, s.image_sets.end()};
}

std::string error_of(const json& cfg) {
  try {
    prh::config::parse(cfg.dump(), "subsample-test");
  } catch (const prh::InputError& e) {
    return e.what();
  }
  return "";
}

// The base's index of each image of src (ids are "subsample(N):" + base id).
std::vector<std::int64_t> rows_of(const prh::data::Source& src, const prh::data::Source& base) {
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < src.size(); ++i) {
    const std::string id = src.id(i);
    const std::string base_id = id.substr(id.find(':') + 1);
    std::int64_t r = -1;
    for (std::int64_t j = 0; j < base.size(); ++j)
      if (base.id(j) == base_id) r = j;
    rows.push_back(r);
  }
  return rows;
}

TEST(DataSubsample, LevelsAreNestedPrefixesOfOnePermutation) {
  const json base = noise_base(40);
  const auto b = make_source(base, "b");
  const auto sets = levels_of(base, {5, 40, 12}, 7);
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[0].name, "b@subsample=5");
  EXPECT_EQ(sets[2].name, "b@subsample=12");
  EXPECT_EQ(sets[0].source.kind, "subsample");
  ASSERT_TRUE(sets[0].sweep.has_value());
  EXPECT_EQ(sets[0].sweep->family, "subsample");
  const auto perm = prh::data::detail::subsample_permutation(40, 7);
  std::vector<std::int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 40; ++i) ASSERT_EQ(sorted[static_cast<std::size_t>(i)], i);
  for (const auto& set : sets) {
    const auto src = make_source(set.source.spec, set.name);
    const auto n = set.sweep->level.get<std::int64_t>();
    ASSERT_EQ(src->size(), n);
    const auto rows = rows_of(*src, *b);
    EXPECT_EQ(rows, std::vector<std::int64_t>(perm.begin(), perm.begin() + n)) << set.name;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto r = perm[static_cast<std::size_t>(i)];
      const auto x = src->get(i), y = b->get(r);
      EXPECT_EQ(x.image.pixels, y.image.pixels) << set.name << " " << i;
      EXPECT_EQ(x.label, y.label);
      EXPECT_EQ(src->label(i), b->label(r));
      EXPECT_EQ(x.id, fmt::format("subsample({}):{}", n, b->id(r)));
      EXPECT_EQ(src->id(i), x.id);
    }
  }
  // The full level is a permutation of the base, not the base's order.
  EXPECT_NE(perm, sorted);
}

TEST(DataSubsample, PermutationIsDeterministicAndSeeded) {
  EXPECT_EQ(prh::data::detail::subsample_permutation(100, 3),
            prh::data::detail::subsample_permutation(100, 3));
  EXPECT_NE(prh::data::detail::subsample_permutation(100, 3),
            prh::data::detail::subsample_permutation(100, 4));
  EXPECT_TRUE(prh::data::detail::subsample_permutation(0, 3).empty());
  EXPECT_EQ(prh::data::detail::subsample_permutation(1, 3), std::vector<std::int64_t>{0});
  // Two parses of one config give the same images in the same order.
  const json base = noise_base(30);
  const auto a = make_source(levels_of(base, {10}, 5)[0].source.spec, "a");
  const auto c = make_source(levels_of(base, {10}, 5)[0].source.spec, "c");
  const auto d = make_source(levels_of(base, {10}, 6)[0].source.spec, "d");
  std::vector<std::string> ia, ic, id;
  for (std::int64_t i = 0; i < 10; ++i)
    ia.push_back(a->id(i)), ic.push_back(c->id(i)), id.push_back(d->id(i));
  EXPECT_EQ(ia, ic);
  EXPECT_NE(ia, id);
  EXPECT_EQ(std::set<std::string>(ia.begin(), ia.end()).size(), 10u);  // no image twice
}

TEST(DataSubsample, SweepLimitAppliesToTheBaseFirst) {
  // With limit 20, the permutation is of the base's first 20 images.
  const json base = noise_base(40);
  json cfg = sweep_config(base, {8}, 2);
  cfg["sweeps"][0]["limit"] = 20;
  const auto s = prh::config::parse(cfg.dump(), "t");
  const auto src = make_source(s.image_sets[1].source.spec, "l");
  const auto perm = prh::data::detail::subsample_permutation(20, 2);
  EXPECT_EQ(rows_of(*src, *make_source(base, "b")),
            std::vector<std::int64_t>(perm.begin(), perm.begin() + 8));
}

TEST(DataSubsample, Errors) {
  const json base = noise_base(10);
  // A level above the base's count: an InputError naming both numbers.
  const auto sets = levels_of(base, {11});
  try {
    make_source(sets[0].source.spec, "image_sets[1] 'b@subsample=11'");
    FAIL() << "no error";
  } catch (const prh::InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("image_sets[1] 'b@subsample=11': subsample of 11 images, but its base has "
                     "only 10 images"),
              std::string::npos)
        << m;
  }
  // Levels: integers >= 2, each listed once.
  std::string e = error_of(sweep_config(base, {1, 2.5, 4, 4}, 0));
  EXPECT_NE(e.find("sweeps[0].levels[0]: a subsample level is a count of the base's images, "
                   "an integer in [2, "),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("sweeps[0].levels[1]: a subsample level"), std::string::npos) << e;
  EXPECT_NE(e.find("sweeps[0].levels[3]: level 4 is listed twice"), std::string::npos) << e;
}

}  // namespace
