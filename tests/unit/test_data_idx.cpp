// IDX (MNIST) sources: hand-written files and the real Fashion-MNIST.

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "test_data_helpers.hpp"

namespace {

using namespace data_test;
using nlohmann::json;
using prh::data::make_source;

std::vector<std::uint8_t> be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

// An IDX file: magic (0, 0, type, ndims), dims, data.
std::vector<std::uint8_t> idx_file(int type, const std::vector<std::uint32_t>& dims,
                                   const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out{0, 0, static_cast<std::uint8_t>(type),
                                static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims) {
    const auto b = be32(d);
    out.insert(out.end(), b.begin(), b.end());
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 5 images of 2 x 3; byte k of image j = 10 j + k; labels 3 1 3 0 3.
    std::vector<std::uint8_t> px;
    for (int j = 0; j < 5; ++j)
      for (int k = 0; k < 6; ++k) px.push_back(static_cast<std::uint8_t>(10 * j + k));
    images = dir.file("imgs.idx");
    labels = dir.file("labels.idx");
    write_bytes(images, idx_file(0x08, {5, 2, 3}, px));
    write_bytes(labels, idx_file(0x08, {5}, {3, 1, 3, 0, 3}));
  }
  json spec(json extra = json::object()) const {
    json s{{"kind", "idx"}, {"images", images}, {"labels", labels}, {"classes", json::array()},
           {"offset", 0},   {"limit", 0}};
    for (auto& [k, v] : extra.items()) s[k] = v;
    return s;
  }
  std::vector<std::uint8_t> image_bytes(int j) const {
    std::vector<std::uint8_t> b;
    for (int k = 0; k < 6; ++k) b.push_back(static_cast<std::uint8_t>(10 * j + k));
    return b;
  }
  TempDir dir;
  std::string images, labels;
};

TEST_F(IdxTest, AllImagesWithLabelsAndIds) {
  const auto src = make_source(spec(), "s");
  ASSERT_EQ(src->size(), 5);
  const std::vector<std::int64_t> want{3, 1, 3, 0, 3};
  for (int j = 0; j < 5; ++j) {
    EXPECT_EQ(src->label(j), want[static_cast<std::size_t>(j)]);
    EXPECT_EQ(src->id(j), images + "#" + std::to_string(j));
    const auto item = src->get(j);
    EXPECT_EQ(item.image.height, 2);
    EXPECT_EQ(item.image.width, 3);
    EXPECT_EQ(item.image.channels, 1);
    EXPECT_EQ(item.image.pixels, image_bytes(j));
    EXPECT_EQ(item.label, want[static_cast<std::size_t>(j)]);
    EXPECT_EQ(item.id, src->id(j));
  }
}

TEST_F(IdxTest, ClassFilterThenOffsetThenLimit) {
  const auto c3 = make_source(spec({{"classes", {3}}}), "s");
  ASSERT_EQ(c3->size(), 3);
  EXPECT_EQ(c3->id(1), images + "#2");
  EXPECT_EQ(c3->get(2).image.pixels, image_bytes(4));

  const auto c = make_source(spec({{"classes", {3, 0}}, {"offset", 1}, {"limit", 2}}), "s");
  ASSERT_EQ(c->size(), 2);  // class 3 or 0: files 0 2 3 4; skip 1; keep 2
  EXPECT_EQ(c->id(0), images + "#2");
  EXPECT_EQ(c->id(1), images + "#3");
  EXPECT_EQ(c->label(1), 0);
  EXPECT_EQ(c->get(1).image.pixels, image_bytes(3));

  const auto lim = make_source(spec({{"offset", 3}, {"limit", 10}}), "s");
  ASSERT_EQ(lim->size(), 2);
  EXPECT_EQ(lim->id(0), images + "#3");
}

TEST_F(IdxTest, WithoutLabelsEveryLabelIsMinusOne) {
  const auto src = make_source(json{{"kind", "idx"}, {"images", images}, {"limit", 2}}, "s");
  ASSERT_EQ(src->size(), 2);
  EXPECT_EQ(src->label(0), -1);
  EXPECT_EQ(src->get(1).label, -1);
  EXPECT_EQ(src->get(1).image.pixels, image_bytes(1));
}

TEST_F(IdxTest, EmptySelectionIsAnError) {
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"classes", {7}}}), "set 'i'");
                      }),
                      {"set 'i'", images, "no images selected"}));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"offset", 5}}), "set 'i'");
                      }),
                      {"set 'i'", "no images selected"}));
  EXPECT_TRUE(
      has_all(input_error([&] {
                make_source(json{{"kind", "idx"}, {"images", images}, {"classes", {1}}}, "set 'i'");
              }),
              {"set 'i'", "'classes' needs 'labels'"}));
}

TEST_F(IdxTest, BadFilesAreNamed) {
  const std::string missing = dir.file("none.idx");
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", missing}}), "set 'i'");
                      }),
                      {"set 'i'", missing, "does not exist"}));

  const std::string magic = dir.file("magic.idx");
  write_bytes(magic, {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", magic}}), "s");
                      }),
                      {magic, "not an IDX file", "magic"}));

  const std::string dims2 = dir.file("dims2.idx");
  write_bytes(dims2, idx_file(0x08, {5, 6}, std::vector<std::uint8_t>(30)));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", dims2}}), "s");
                      }),
                      {dims2, "3-dimensional"}));

  const std::string floats = dir.file("floats.idx");
  write_bytes(floats, idx_file(0x0D, {5, 2, 3}, std::vector<std::uint8_t>(120)));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", floats}}), "s");
                      }),
                      {floats, "unsigned bytes"}));

  const std::string trunc = dir.file("trunc.idx");
  write_bytes(trunc, idx_file(0x08, {5, 2, 3}, std::vector<std::uint8_t>(20)));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", trunc}}), "s");
                      }),
                      {trunc, "truncated"}));

  // Headers declaring more than the file holds are refused before anything
  // is allocated (4e9 x 65536 x 65536 images, 4e9 labels), plain or gzip.
  const std::string huge = dir.file("huge.idx");
  write_bytes(huge, idx_file(0x08, {4000000000u, 65536, 65536}, std::vector<std::uint8_t>(64)));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", huge}}), "s");
                      }),
                      {huge, "65536 x 65536 pixels", "at most 67108864 pixels"}));
  const std::string lots = dir.file("lots.idx");
  write_bytes(lots, idx_file(0x08, {4000000000u, 64, 64}, std::vector<std::uint8_t>(64)));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", lots}}), "s");
                      }),
                      {lots, "4000000000 images of 64 x 64", "more than the file can hold"}));
  const std::string many = dir.file("many.idx");
  write_bytes(many, idx_file(0x08, {4000000000u}, {1, 2, 3}));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"labels", many}}), "s");
                      }),
                      {many, "4000000000 labels", "more than the file can hold"}));
  const std::string gz = dir.file("huge.idx.gz");
  {
    const auto raw = idx_file(0x08, {4000000000u, 64, 64}, std::vector<std::uint8_t>(64));
    gzFile g = gzopen(gz.c_str(), "wb");
    gzwrite(g, raw.data(), static_cast<unsigned>(raw.size()));
    gzclose(g);
  }
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", gz}}), "s");
                      }),
                      {gz, "more than the file can hold"}));

  // The fuzzer's idx-67M-images-timeout (tests/fuzz/idx/crash-67M-images):
  // 67,108,864 images of 3 x 5 in a 76-byte file, refused with both numbers.
  const std::string fuzzed = dir.file("fuzzed.idx");
  write_bytes(fuzzed, idx_file(0x08, {67108864u, 3, 5}, std::vector<std::uint8_t>(60)));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", fuzzed}, {"labels", ""}}), "s");
                      }),
                      {fuzzed, "67108864 images of 3 x 5", "(1006632960 bytes)",
                       "more than the file can hold (60 bytes)"}));

  // gzip: a header within 1032 times the file's size but beyond its data is
  // found truncated as the data streams in (memory grows with the data read,
  // not with the header's claim); labels too.
  const auto write_gz = [](const std::string& path, const std::vector<std::uint8_t>& raw) {
    gzFile g = gzopen(path.c_str(), "wb");
    gzwrite(g, raw.data(), static_cast<unsigned>(raw.size()));
    gzclose(g);
  };
  std::vector<std::uint8_t> noise(9000);
  std::uint32_t x = 12345;
  for (auto& b : noise) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  const std::string short_gz = dir.file("short.idx.gz");
  write_gz(short_gz, idx_file(0x08, {1000, 64, 64}, noise));  // 2 images and a bit
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"images", short_gz}, {"labels", ""}}), "s");
                      }),
                      {short_gz, "truncated", "1000 images of 64 x 64", "ends in image 2"}));
  EXPECT_TRUE(
      has_all(input_error([&] {
                make_source(spec({{"images", short_gz}, {"labels", ""}, {"offset", 5}}), "s");
              }),
              {short_gz, "truncated", "ends in image 2"}));
  const std::string short_labels = dir.file("short-labels.idx.gz");
  write_gz(short_labels, idx_file(0x0C, {100000}, noise));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"labels", short_labels}}), "s");
                      }),
                      {short_labels, "truncated", "100000 labels", "the file holds 2250"}));

  const std::string four = dir.file("four.idx");
  write_bytes(four, idx_file(0x08, {4}, {1, 2, 3, 4}));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"labels", four}}), "s");
                      }),
                      {four, "4 labels", images, "5 images"}));

  const std::string lab2 = dir.file("lab2.idx");
  write_bytes(lab2, idx_file(0x08, {5, 1}, {1, 2, 3, 4, 5}));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(spec({{"labels", lab2}}), "s");
                      }),
                      {lab2, "1-dimensional"}));
}

// --- Fashion-MNIST (Debian's dataset-fashion-mnist) -------------------------------------

const std::string kFashion = "/usr/share/datasets/fashion-mnist/";

TEST(DataIdxFashionMnist, TestSetClassesFiveToNine) {
  const std::string images = kFashion + "t10k-images-idx3-ubyte.gz";
  const std::string labels = kFashion + "t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images) || !std::filesystem::exists(labels))
    GTEST_SKIP() << "Fashion-MNIST is not installed (dataset-fashion-mnist)";
  const json all_spec{{"kind", "idx"},    {"images", images},
                      {"labels", labels}, {"classes", json::array()},
                      {"offset", 0},      {"limit", 0}};
  const auto all = make_source(all_spec, "fashion");
  ASSERT_EQ(all->size(), 10000);
  std::map<std::int64_t, int> counts;
  for (std::int64_t i = 0; i < all->size(); ++i) ++counts[all->label(i)];
  ASSERT_EQ(counts.size(), 10u);
  for (const auto& [label, n] : counts) {
    EXPECT_GE(label, 0);
    EXPECT_LE(label, 9);
    EXPECT_EQ(n, 1000) << "class " << label;
  }

  json spec = all_spec;
  spec["classes"] = {5, 6, 7, 8, 9};
  const auto src = make_source(spec, "fashion");
  ASSERT_EQ(src->size(), 5000);
  const auto first = src->get(0);
  EXPECT_GE(first.label, 5);
  EXPECT_LE(first.label, 9);
  EXPECT_EQ(first.image.height, 28);
  EXPECT_EQ(first.image.width, 28);
  EXPECT_EQ(first.image.channels, 1);
  // The same images as the unfiltered source at the same file index.
  std::int64_t j = 0;
  for (std::int64_t i = 0; i < 50; ++i) {
    while (all->label(j) < 5) ++j;
    EXPECT_EQ(src->id(i), images + "#" + std::to_string(j));
    EXPECT_EQ(src->label(i), all->label(j));
    EXPECT_EQ(src->get(i).image.pixels, all->get(j).image.pixels);
    ++j;
  }
  // Not a blank image.
  std::set<int> values(first.image.pixels.begin(), first.image.pixels.end());
  EXPECT_GT(values.size(), 10u);
}

}  // namespace
