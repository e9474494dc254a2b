// Part files of embed job arrays (store/embedding_store.hpp): what a task's
// writer writes is what a merge reads, bit for bit; fingerprints and item
// boundaries are checked; done items are seen from parts.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/store/embedding_store.hpp"

namespace {

namespace fs = std::filesystem;
using prh::store::StoreLayout;

StoreLayout layout(const std::string& dtype) {
  StoreLayout l;
  l.embed_params = {{"batch_size", 8}, {"feature_dtype", dtype}};
  l.shard_size = 4;
  l.feature_dtype = dtype;
  prh::store::SetLayout s;
  s.name = "id";
  s.spec = {{"kind", "noise"}};
  s.n = 10;  // shards of 4, 4, 2 rows
  l.sets.push_back(s);
  for (int m = 0; m < 2; ++m) {
    prh::store::ModelLayout ml;
    ml.name = m == 0 ? "headless" : "classifier";
    ml.spec = {{"path", ml.name + ".pt"}, {"checksum", "abc"}};
    ml.layer_dims = {3, 2};
    ml.classes = m == 0 ? 0 : 5;
    l.models.push_back(ml);
  }
  return l;
}

struct Dir {
  fs::path path =
      fs::temp_directory_path() /
      ("prh-parts-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  Dir() { fs::remove_all(path); }
  ~Dir() { fs::remove_all(path); }
  std::string store() const { return (path / "store.h5").string(); }
};

TEST(StoreParts, WrittenPartReadsBackBitForBit) {
  for (const std::string dtype : {"float32", "float16"}) {
    Dir dir;
    const auto l = layout(dtype);
    auto w = prh::store::open_for_array_task(dir.store(), l, {true, true});
    EXPECT_FALSE(w->is_done(0, 1, 2));
    // Shard 2 of model 1: rows 8..9, 2 layers x Dmax 3 (layer 1 zero-padded).
    std::vector<float> f = {0.5f,   -1.25f, 3.0f,  7.0f,  0.0f, 0.0f,
                            0.125f, 2.5f,   -4.0f, 0.25f, 9.0f, 0.0f};
    w->mark_skipped(0, 9);
    w->mark_skipped(0, 1);  // another shard's row: not this part's
    w->write_rows(0, 1, 8, 2, f, {4, 1}, {0.75f, 0.5f});
    w->mark_done(0, 1, 2);
    EXPECT_TRUE(w->is_done(0, 1, 2));
    const auto path = prh::store::part_path(dir.store(), "id", "classifier", 2);
    EXPECT_EQ(prh::store::list_parts(dir.store()), std::vector<std::string>{path});
    EXPECT_FALSE(fs::exists(dir.store())) << "a task never creates the store";
    for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
      EXPECT_EQ(e.path().extension(), ".h5") << "temporary left: " << e.path();

    const auto p =
        prh::store::read_part(path, prh::store::part_fingerprint(l, 0, 1), 2, 8, 2, 2, 3);
    EXPECT_EQ(p.features, f) << dtype;  // all values exact in float16 too
    EXPECT_EQ(p.top1, (std::vector<std::int64_t>{4, 1}));
    EXPECT_EQ(p.prob, (std::vector<float>{0.75f, 0.5f}));
    EXPECT_EQ(p.skipped, std::vector<std::int64_t>{9});

    // A new writer (a resumed task) sees the item done from its part.
    auto again = prh::store::open_for_array_task(dir.store(), l, {true, true});
    EXPECT_TRUE(again->is_done(0, 1, 2));
    EXPECT_FALSE(again->is_done(0, 1, 1));
    EXPECT_FALSE(again->is_done(0, 0, 2));
  }
}

TEST(StoreParts, HeadlessModelHasNoPredictions) {
  Dir dir;
  const auto l = layout("float32");
  auto w = prh::store::open_for_array_task(dir.store(), l, {true, false});
  std::vector<float> f(4 * 2 * 3, 1.5f);
  w->write_rows(0, 0, 0, 4, f, {-1, -1, -1, -1}, {0, 0, 0, 0});
  w->mark_done(0, 0, 0);
  const auto p = prh::store::read_part(prh::store::part_path(dir.store(), "id", "headless", 0),
                                       prh::store::part_fingerprint(l, 0, 0), 0, 0, 4, 2, 3);
  EXPECT_EQ(p.features, f);
  EXPECT_TRUE(p.top1.empty());
  EXPECT_TRUE(p.skipped.empty());
}

TEST(StoreParts, AnotherConfigurationOrItemIsRefused) {
  Dir dir;
  const auto l = layout("float32");
  {
    auto w = prh::store::open_for_array_task(dir.store(), l, {true, true});
    std::vector<float> f(4 * 2 * 3, 2.0f);
    w->write_rows(0, 0, 4, 4, f, {}, {});
    w->mark_done(0, 0, 1);
  }
  const auto path = prh::store::part_path(dir.store(), "id", "headless", 1);
  auto changed = l;
  changed.embed_params["batch_size"] = 16;
  changed.models[0].spec["checksum"] = "def";
  try {
    prh::store::read_part(path, prh::store::part_fingerprint(changed, 0, 0), 1, 4, 4, 2, 3);
    FAIL() << "a part of another configuration was accepted";
  } catch (const prh::InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("batch_size: 8 -> 16"), std::string::npos) << msg;
    EXPECT_NE(msg.find("checksum"), std::string::npos) << msg;
  }
  // A resumed task with the changed config refuses too (it would skip the item).
  auto w = prh::store::open_for_array_task(dir.store(), changed, {true, true});
  EXPECT_THROW(w->is_done(0, 0, 1), prh::InputError);
  // The right config, the wrong item.
  EXPECT_THROW(prh::store::read_part(path, prh::store::part_fingerprint(l, 0, 0), 2, 8, 2, 2, 3),
               prh::InputError);
  // Not a part at all.
  const auto junk = (dir.path / "junk.h5").string();
  { std::ofstream(junk) << "not hdf5"; }
  EXPECT_THROW(prh::store::read_part(junk, prh::store::part_fingerprint(l, 0, 0), 1, 4, 4, 2, 3),
               prh::InputError);
}

// A sidecar edited in place (same path, same model file): the part records
// the parsed preprocessing, so a merge or resume with the new one is refused,
// naming the field and both values as written (floats shown as floats).
TEST(StoreParts, SidecarEditedInPlaceIsRefused) {
  Dir dir;
  auto l = layout("float32");
  for (auto& m : l.models) {
    m.sidecar = {{"input_size", 28}, {"mean", std::vector<float>{0.5f}}, {"resampler", "pil"}};
    m.layer_names = {"a", "b"};
  }
  {
    auto w = prh::store::open_for_array_task(dir.store(), l, {true, true});
    std::vector<float> f(4 * 2 * 3, 2.0f);
    w->write_rows(0, 0, 4, 4, f, {}, {});
    w->mark_done(0, 0, 1);
  }
  const auto path = prh::store::part_path(dir.store(), "id", "headless", 1);
  // Unchanged: accepted.
  EXPECT_NO_THROW(
      prh::store::read_part(path, prh::store::part_fingerprint(l, 0, 0), 1, 4, 4, 2, 3));
  auto changed = l;
  changed.models[0].sidecar["mean"] = std::vector<float>{0.1f};
  try {
    prh::store::read_part(path, prh::store::part_fingerprint(changed, 0, 0), 1, 4, 4, 2, 3);
    FAIL() << "a part made with another sidecar was accepted";
  } catch (const prh::InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model.sidecar.mean: [0.5] -> [0.1]"), std::string::npos) << msg;
  }
  auto renamed = l;
  renamed.models[0].layer_names = {"a", "c"};
  EXPECT_THROW(prh::store::check_part(path, prh::store::part_fingerprint(renamed, 0, 0)),
               prh::InputError);
  auto w = prh::store::open_for_array_task(dir.store(), changed, {true, true});
  EXPECT_THROW(w->is_done(0, 0, 1), prh::InputError);
}

}  // namespace
