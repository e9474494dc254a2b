// HDF5 image arrays: fixture files written here with the HDF5 C API (uint8
// [N, H, W] and [N, H, W, 3], labels of several integer types, chunked and
// compressed storage, wrong types and shapes), read through make_source.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "prh/config/config.hpp"
#include "test_data_helpers.hpp"

// The test target needs HDF5's (and, for the parallel build, MPI's) include
// folders to write fixtures: prh-data-tests must link ${HDF5_C_LIBRARIES} and
// MPI::MPI_C and have ${HDF5_INCLUDE_DIRS} (see tests/CMakeLists.txt). A build
// without them is misconfigured and fails here rather than skipping the tests.
#if !__has_include(<hdf5.h>)
#error "prh-data-tests: no <hdf5.h>: the target lacks ${HDF5_INCLUDE_DIRS} (tests/CMakeLists.txt)"
#endif
#include <hdf5.h>

namespace {

using namespace data_test;
using nlohmann::json;
using prh::data::make_source;

// Writes datasets into a new HDF5 file (closed on destruction).
class H5Writer {
 public:
  explicit H5Writer(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file_ < 0) throw std::runtime_error("cannot create " + path);
  }
  ~H5Writer() { H5Fclose(file_); }
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  // Dataset `name` (intermediate groups created) of `type` (a native type,
  // used in the file and in memory) with shape dims. chunk0 > 0: chunked by
  // chunk0 along the first axis and deflate-compressed.
  template <class T>
  void write(const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
             const std::vector<T>& data, hsize_t chunk0 = 0) {
    hsize_t total = 1;
    for (auto d : dims) total *= d;
    if (total != data.size()) throw std::runtime_error("fixture " + name + ": wrong data size");
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk0 > 0) {
      std::vector<hsize_t> chunk = dims;
      chunk[0] = chunk0;
      H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
      H5Pset_deflate(dcpl, 4);
    }
    const hid_t d = H5Dcreate2(file_, name.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT);
    if (d < 0) throw std::runtime_error("cannot create dataset " + name);
    if (total > 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
      throw std::runtime_error("cannot write dataset " + name);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    H5Sclose(space);
  }

  void group(const std::string& name) {
    H5Gclose(H5Gcreate2(file_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  }

 private:
  hid_t file_ = -1;
};

// Byte k of grey image j: 10 j + k; of RGB image j: 37 j + k (mod 256).
std::vector<std::uint8_t> grey_image(int j) {
  std::vector<std::uint8_t> b;
  for (int k = 0; k < 6; ++k) b.push_back(static_cast<std::uint8_t>(10 * j + k));
  return b;
}
std::vector<std::uint8_t> rgb_image(int j) {
  std::vector<std::uint8_t> b;
  for (int k = 0; k < 18; ++k) b.push_back(static_cast<std::uint8_t>((37 * j + k) % 256));
  return b;
}
template <class F>
std::vector<std::uint8_t> concat(int n, F image) {
  std::vector<std::uint8_t> all;
  for (int j = 0; j < n; ++j) {
    const auto b = image(j);
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

const std::vector<std::int32_t> kGreyLabels{3, 1, 4, 1, 5};
const std::vector<std::int64_t> kRgbLabels{std::int64_t{1} << 40, 0, -7, 9};

class Hdf5Test : public ::testing::Test {
 protected:
  void SetUp() override {
    file = dir.file("set.h5");
    H5Writer w(file);
    // 5 grey images of 2 x 3, labels int32.
    w.write("grey", H5T_NATIVE_UINT8, {5, 2, 3}, concat(5, grey_image));
    w.write("grey_labels", H5T_NATIVE_INT32, {5}, kGreyLabels);
    // 4 RGB images of 2 x 3, labels int64, chunked by 3 and compressed, in a group.
    w.write("/train/rgb", H5T_NATIVE_UINT8, {4, 2, 3, 3}, concat(4, rgb_image), 3);
    w.write("/train/rgb_labels", H5T_NATIVE_INT64, {4}, kRgbLabels);
    // The grey images as [N, H, W, 1]; labels as uint8.
    w.write("grey1", H5T_NATIVE_UINT8, {5, 2, 3, 1}, concat(5, grey_image));
    w.write("labels_u8", H5T_NATIVE_UINT8, {5}, std::vector<std::uint8_t>{0, 255, 2, 3, 4});
    // Wrong ones.
    w.write("float", H5T_NATIVE_FLOAT, {5, 2, 3}, std::vector<float>(30, 0.5f));
    w.write("int16", H5T_NATIVE_INT16, {5, 2, 3}, std::vector<std::int16_t>(30, 1));
    w.write("int8", H5T_NATIVE_INT8, {5, 2, 3}, std::vector<std::int8_t>(30, 1));
    w.write("rank2", H5T_NATIVE_UINT8, {5, 6}, std::vector<std::uint8_t>(30, 1));
    w.write("rank5", H5T_NATIVE_UINT8, {1, 1, 2, 3, 5}, std::vector<std::uint8_t>(30, 1));
    w.write("two_channels", H5T_NATIVE_UINT8, {3, 2, 2, 2}, std::vector<std::uint8_t>(24, 1));
    w.write("empty", H5T_NATIVE_UINT8, {0, 2, 3}, std::vector<std::uint8_t>{});
    w.write("zero_width", H5T_NATIVE_UINT8, {5, 2, 0}, std::vector<std::uint8_t>{});
    w.write("labels_short", H5T_NATIVE_INT32, {4}, std::vector<std::int32_t>{0, 1, 2, 3});
    w.write("labels_float", H5T_NATIVE_DOUBLE, {5}, std::vector<double>(5, 1.0));
    w.write("labels_2d", H5T_NATIVE_INT32, {5, 1}, std::vector<std::int32_t>(5, 1));
    w.group("a_group");
  }

  json spec(const std::string& dataset, const std::string& labels = "",
            std::int64_t limit = 0) const {
    return canonical({{"kind", "hdf5"},
                      {"file", file},
                      {"dataset", dataset},
                      {"labels", labels},
                      {"limit", limit}});
  }
  std::string id(const std::string& dataset, int j) const {
    return file + ":" + dataset + "#" + std::to_string(j);
  }

  TempDir dir;
  std::string file;
};

TEST_F(Hdf5Test, GreyImagesWithInt32Labels) {
  const auto src = make_source(spec("grey", "grey_labels"), "set 'g'");
  ASSERT_EQ(src->size(), 5);
  for (int j = 0; j < 5; ++j) {
    EXPECT_EQ(src->label(j), kGreyLabels[static_cast<std::size_t>(j)]);
    EXPECT_EQ(src->id(j), id("grey", j));
    const auto item = src->get(j);
    EXPECT_EQ(item.image.height, 2);
    EXPECT_EQ(item.image.width, 3);
    EXPECT_EQ(item.image.channels, 1);
    EXPECT_EQ(item.image.pixels, grey_image(j)) << j;
    EXPECT_EQ(item.label, kGreyLabels[static_cast<std::size_t>(j)]);
    EXPECT_EQ(item.id, src->id(j));
  }
}

TEST_F(Hdf5Test, RgbChunkedInAGroupWithInt64Labels) {
  const auto src = make_source(spec("/train/rgb", "/train/rgb_labels"), "s");
  ASSERT_EQ(src->size(), 4);
  for (int j : {3, 0, 2, 1}) {  // random access
    const auto item = src->get(j);
    EXPECT_EQ(item.image.height, 2);
    EXPECT_EQ(item.image.width, 3);
    EXPECT_EQ(item.image.channels, 3);
    EXPECT_EQ(item.image.pixels, rgb_image(j)) << j;  // HWC, as stored
    EXPECT_EQ(item.label, kRgbLabels[static_cast<std::size_t>(j)]);
    EXPECT_EQ(item.id, id("/train/rgb", j));
  }
}

TEST_F(Hdf5Test, OneChannelAxisIsGreyAndUint8LabelsAreRead) {
  const auto src = make_source(spec("grey1", "labels_u8"), "s");
  ASSERT_EQ(src->size(), 5);
  const auto item = src->get(4);
  EXPECT_EQ(item.image.channels, 1);
  EXPECT_EQ(item.image.pixels, grey_image(4));
  EXPECT_EQ(src->label(1), 255);
  EXPECT_EQ(src->label(4), 4);
}

TEST_F(Hdf5Test, WithoutLabelsEveryLabelIsMinusOne) {
  const auto src = make_source(spec("grey"), "s");
  ASSERT_EQ(src->size(), 5);
  for (int j = 0; j < 5; ++j) EXPECT_EQ(src->label(j), -1);
  EXPECT_EQ(src->get(2).label, -1);
}

TEST_F(Hdf5Test, LimitKeepsTheFirst) {
  const auto src = make_source(spec("grey", "grey_labels", 2), "s");
  ASSERT_EQ(src->size(), 2);
  EXPECT_EQ(src->label(1), 1);
  EXPECT_EQ(src->id(1), id("grey", 1));
  EXPECT_EQ(src->get(1).image.pixels, grey_image(1));
  EXPECT_THROW(src->get(2), prh::InternalError);
  EXPECT_THROW(src->label(-1), prh::InternalError);
  EXPECT_THROW(src->id(2), prh::InternalError);
  // A limit beyond the end keeps all.
  EXPECT_EQ(make_source(spec("grey", "grey_labels", 100), "s")->size(), 5);
}

TEST_F(Hdf5Test, SourcesOnOneFileLiveSideBySide) {
  auto a = make_source(spec("grey", "grey_labels"), "a");
  auto b = make_source(spec("/train/rgb"), "b");
  EXPECT_EQ(a->get(3).image.pixels, grey_image(3));
  EXPECT_EQ(b->get(3).image.pixels, rgb_image(3));
  a.reset();  // closes a's handles; b's file stays open
  EXPECT_EQ(b->get(1).image.pixels, rgb_image(1));
  EXPECT_EQ(b->get(1).label, -1);
}

TEST_F(Hdf5Test, OpensTheFileOnceAndClosesItWithTheSource) {
  const auto open_objects = [] { return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL); };
  ASSERT_EQ(open_objects(), 0);
  {
    const auto src = make_source(spec("/train/rgb", "/train/rgb_labels"), "s");
    EXPECT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE), 1);
    EXPECT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_DATASET), 1);  // the images only
    for (int j = 0; j < 4; ++j) src->get(j);
    EXPECT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 2);  // nothing leaks per get()
  }
  EXPECT_EQ(open_objects(), 0);
  // A failed open leaves nothing open either.
  EXPECT_THROW(make_source(spec("grey", "labels_short"), "s"), prh::InputError);
  EXPECT_EQ(open_objects(), 0);
}

TEST_F(Hdf5Test, ConcurrentGetsFromManyThreads) {
  const auto grey = make_source(spec("grey", "grey_labels"), "g");
  const auto rgb = make_source(spec("/train/rgb", "/train/rgb_labels"), "r");
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 200; ++r) {
        const int j = (t + 3 * r) % 4;
        const auto g = grey->get(j);
        const auto c = rgb->get(j);
        if (g.image.pixels != grey_image(j) || c.image.pixels != rgb_image(j) ||
            c.label != kRgbLabels[static_cast<std::size_t>(j)])
          ++bad;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

// --- Errors: each names the set, the file and the dataset -------------------------

TEST_F(Hdf5Test, MissingOrNonHdf5FileIsNamed) {
  const std::string nofile = dir.file("nope.h5");
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(
                            canonical({{"kind", "hdf5"}, {"file", nofile}, {"dataset", "grey"}}),
                            "set 'h'");
                      }),
                      {"set 'h'", nofile, "'grey'", "does not exist"}));
  const std::string text = dir.file("text.h5");
  write_text(text, "not hdf5 at all\n");
  EXPECT_TRUE(has_all(
      input_error([&] {
        make_source(canonical({{"kind", "hdf5"}, {"file", text}, {"dataset", "grey"}}), "set 'h'");
      }),
      {"set 'h'", text, "'grey'", "not an HDF5 file"}));
}

TEST_F(Hdf5Test, MissingDatasetOrGroupIsNamed) {
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("nope"), "set 'h'"); }),
                      {"set 'h'", file, "'nope'", "no such dataset"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("/no_group/rgb"), "s"); }),
                      {file, "'/no_group/rgb'", "no such dataset", "'/no_group'"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("/train/nope"), "s"); }),
                      {file, "'/train/nope'", "no such dataset"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("a_group"), "s"); }),
                      {file, "'a_group'", "not a dataset", "group"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("grey/x"), "s"); }), {file, "'grey/x'"}));
}

TEST_F(Hdf5Test, NonUint8ImagesNameTheirType) {
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("float"), "set 'h'"); }),
                      {"set 'h'", file, "'float'", "uint8", "float32"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("int16"), "s"); }),
                      {file, "'int16'", "uint8", "got int16"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("int8"), "s"); }),
                      {file, "'int8'", "uint8", "got int8"}));
}

TEST_F(Hdf5Test, WrongShapesAreNamed) {
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("rank2"), "set 'h'"); }),
                      {"set 'h'", file, "'rank2'", "[N, H, W]", "[5, 6]"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("rank5"), "s"); }),
                      {file, "'rank5'", "[1, 1, 2, 3, 5]"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("two_channels"), "s"); }),
                      {file, "'two_channels'", "C = 1", "[3, 2, 2, 2]"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("zero_width"), "s"); }),
                      {file, "'zero_width'", "2 x 0"}));
}

TEST_F(Hdf5Test, EmptyDatasetIsAnError) {
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("empty"), "set 'h'"); }),
                      {"set 'h'", file, "'empty'", "no images"}));
}

TEST_F(Hdf5Test, BadLabelsAreNamed) {
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("grey", "labels_short"), "set 'h'"); }),
                      {"set 'h'", file, "'labels_short'", "4 labels", "'grey'", "5 images"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("grey", "labels_float"), "s"); }),
                      {file, "'labels_float'", "integers", "float64"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("grey", "labels_2d"), "s"); }),
                      {file, "'labels_2d'", "1-dimensional", "[5, 1]"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("grey", "no_labels"), "s"); }),
                      {file, "'no_labels'", "no such dataset"}));
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("grey", "a_group"), "s"); }),
                      {file, "'a_group'", "not a dataset"}));
  // Checked against the whole dataset, even under a limit.
  EXPECT_TRUE(has_all(input_error([&] { make_source(spec("grey", "labels_short", 2), "s"); }),
                      {"'labels_short'", "4 labels"}));
}

TEST_F(Hdf5Test, BadSpecFields) {
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(json{{"kind", "hdf5"}, {"file", file}}, "set 'h'");
                      }),
                      {"set 'h'", "'dataset'"}));
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(json{{"kind", "hdf5"}, {"dataset", "grey"}}, "set 'h'");
                      }),
                      {"set 'h'", "'file'"}));
  EXPECT_TRUE(has_all(
      input_error([&] {
        make_source(json{{"kind", "hdf5"}, {"file", file}, {"dataset", "grey"}, {"limit", -1}},
                    "set 'h'");
      }),
      {"set 'h'", "'limit'"}));
}

}  // namespace
