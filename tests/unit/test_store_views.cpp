// Views in the embedding store (docs/store.md, "Views"): a set stored as rows
// of another is read, by every StoreReader call the reduction uses, as its
// base's rows bit for bit; a damaged view is an InputError naming the store.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "h5.hpp"
#include "paths.hpp"
#include "prh/core/error.hpp"
#include "prh/store/embedding_reader.hpp"

namespace fs = std::filesystem;
namespace h5 = prh::h5;

namespace {

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() /
          ("prh-store-views-" + std::to_string(::getpid()) + "-" + name + ".h5"))
      .string();
}

constexpr std::int64_t kN = 5, kL = 2, kD = 3;

float feature(std::int64_t r, std::int64_t l, std::int64_t d) {
  // Distinct values that need every bit of a float32.
  return 1.0f / static_cast<float>(7 + r * 13 + l * 5 + d) + static_cast<float>(r);
}

// A store with an embedded set "b" (5 images, model "m": 2 layers of width
// 3, a head, image 2 skipped) and a view "v" = rows `rows` of "b".
void write_store(const std::string& path, const std::vector<std::int64_t>& rows,
                 const std::string& view_of = "b") {
  h5::Handle f = h5::try_create_file(path);
  ASSERT_TRUE(f) << h5::error_stack();
  h5::write_attr(f.id(), "format", std::string(prh::store::paths::kStoreFormat));
  h5::write_attr(f.id(), "embed_params", std::string("{}"));
  h5::write_attr(f.id(), "shard_size", std::int64_t{2});
  h5::write_attr(f.id(), "complete", std::int64_t{1});
  h5::create_group(f.id(), "/sets");
  h5::create_group(f.id(), "/models");
  {
    auto g = h5::create_group(f.id(), prh::store::paths::set("b"));
    h5::write_attr(g.id(), "spec", std::string("{}"));
    h5::write_attr(g.id(), "n", kN);
    h5::write_int64s(g.id(), "labels", {kN}, {0, 1, 2, 3, 4});
    auto sk = h5::create_dataset(g.id(), "skipped", h5::std_u8le(), {kN}, true);
    const std::uint8_t one = 1;
    h5::write_box(sk.id(), h5::native_uint8(), {2}, {1}, &one);
    h5::create_group(g.id(), "models");
    auto m = h5::create_group(f.id(), prh::store::paths::item("b", "m"));
    std::vector<float> x;
    for (std::int64_t r = 0; r < kN; ++r)
      for (std::int64_t l = 0; l < kL; ++l)
        for (std::int64_t d = 0; d < kD; ++d) x.push_back(feature(r, l, d));
    auto feats = h5::create_dataset(m.id(), "features", h5::ieee_f32le(), {kN, kL, kD}, false);
    h5::write_box(feats.id(), h5::native_float(), {0, 0, 0}, {kN, kL, kD}, x.data());
    h5::write_int64s(m.id(), "top1", {kN}, {9, 8, 7, 6, 5});
    auto prob = h5::create_dataset(m.id(), "prob", h5::ieee_f32le(), {kN}, false);
    const std::vector<float> p = {0.5f, 0.25f, 0.125f, 0.0625f, 0.03125f};
    h5::write_box(prob.id(), h5::native_float(), {0}, {kN}, p.data());
    auto done = h5::create_dataset(m.id(), "done", h5::std_u8le(), {3}, true);
    const std::vector<std::uint8_t> all = {1, 1, 1};
    h5::write_box(done.id(), h5::native_uint8(), {0}, {3}, all.data());
  }
  auto v = h5::create_group(f.id(), prh::store::paths::set("v"));
  h5::write_attr(v.id(), "spec", std::string("{}"));
  h5::write_attr(v.id(), "n", static_cast<std::int64_t>(rows.size()));
  std::vector<std::int64_t> labels(rows.size(), -1);
  h5::write_int64s(v.id(), "labels", {rows.size()}, labels);
  h5::write_int64s(v.id(), "rows", {rows.size()}, rows);
  h5::write_attr(v.id(), "view_of", view_of);
}

template <class F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const prh::InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InputError: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no error";
  return "";
}

}  // namespace

TEST(StoreViews, ViewReadsItsBasesRowsBitForBit) {
  const std::string path = temp_path("view");
  const std::vector<std::int64_t> rows = {3, 2, 0};
  write_store(path, rows);
  const prh::store::StoreReader st(path);
  EXPECT_EQ(st.view_of("v"), "b");
  EXPECT_EQ(st.view_of("b"), "");
  EXPECT_EQ(st.view_rows("v"), rows);
  EXPECT_TRUE(st.has_item("v", "m"));
  EXPECT_FALSE(st.has_item("v", "other"));
  EXPECT_EQ(st.done("v", "m"), (std::vector<std::uint8_t>{1, 1, 1}));  // the base's flags
  const auto s = st.set("v");
  EXPECT_EQ(s.n, 3);
  EXPECT_EQ(s.labels, (std::vector<std::int64_t>{-1, -1, -1}));  // its own
  EXPECT_EQ(s.skipped, (std::vector<std::uint8_t>{0, 1, 0}));    // base row 2 is skipped
  for (int l = 0; l < kL; ++l) {
    const auto base = st.read_layer("b", "m", l, kD);
    const auto view = st.read_layer("v", "m", l, kD);
    ASSERT_EQ(view.rows(), 3);
    ASSERT_EQ(view.cols(), kD);
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::int64_t d = 0; d < kD; ++d) {
        EXPECT_EQ(view(static_cast<std::int64_t>(i), d), base(rows[i], d));
        EXPECT_EQ(view(static_cast<std::int64_t>(i), d), feature(rows[i], l, d));
      }
  }
  std::vector<std::int64_t> top1;
  std::vector<float> prob;
  st.read_predictions("v", "m", top1, prob);
  EXPECT_EQ(top1, (std::vector<std::int64_t>{6, 7, 9}));
  EXPECT_EQ(prob, (std::vector<float>{0.0625f, 0.125f, 0.5f}));
  fs::remove(path);
}

TEST(StoreViews, DamagedViewsAreInputErrors) {
  const std::string out_of_range = temp_path("range");
  write_store(out_of_range, {1, 5});
  {
    const prh::store::StoreReader st(out_of_range);
    const auto what = input_error_of([&] { st.read_layer("v", "m", 0, kD); });
    EXPECT_NE(what.find(out_of_range), std::string::npos) << what;
    EXPECT_NE(what.find("row 5 of 'b', which has 5 rows"), std::string::npos) << what;
  }
  fs::remove(out_of_range);
  const std::string no_base = temp_path("nobase");
  write_store(no_base, {1}, "gone");
  {
    const prh::store::StoreReader st(no_base);
    const auto what = input_error_of([&] { st.set("v"); });
    EXPECT_NE(what.find("view of 'gone', which is not an embedded set"), std::string::npos) << what;
  }
  fs::remove(no_base);
}
