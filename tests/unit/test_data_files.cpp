// Sources of image files (folder, list), decoding, and make_source's errors.

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "prh/config/config.hpp"
#include "test_data_helpers.hpp"

namespace {

using namespace data_test;
using nlohmann::json;
using prh::data::make_source;

// --- Decoding -------------------------------------------------------------------

TEST(DataDecode, PngRoundTripsRgbGreySixteenBitAndAlpha) {
  TempDir dir;
  const Image rgb = pattern(5, 7, 3, 11);
  const Image grey = pattern(4, 6, 1, 3);
  write_image(dir.file("rgb.png"), rgb);
  write_image(dir.file("grey.png"), grey);
  write_image(dir.file("rgb16.png"), rgb, 16);
  write_image(dir.file("rgba.png"), rgb, 8, true);
  write_image(dir.file("grey16.png"), grey, 16);
  for (const char* f : {"rgb.png", "rgb16.png", "rgba.png"}) {
    const Image got = prh::data::detail::read_image(dir.file(f));
    EXPECT_EQ(got.height, 5) << f;
    EXPECT_EQ(got.width, 7) << f;
    EXPECT_EQ(got.channels, 3) << f;
    EXPECT_EQ(got.pixels, rgb.pixels) << f;  // RGB order kept through OpenCV's BGR
  }
  for (const char* f : {"grey.png", "grey16.png"}) {
    const Image got = prh::data::detail::read_image(dir.file(f));
    EXPECT_EQ(got.channels, 1) << f;
    EXPECT_EQ(got.height, 4) << f;
    EXPECT_EQ(got.width, 6) << f;
    EXPECT_EQ(got.pixels, grey.pixels) << f;
  }
}

TEST(DataDecode, JpegDecodesToRgbOfTheRightSize) {
  TempDir dir;
  Image flat = pattern(16, 24, 3);
  for (std::size_t k = 0; k < flat.pixels.size(); k += 3) {
    flat.pixels[k] = 200;  // R
    flat.pixels[k + 1] = 40;
    flat.pixels[k + 2] = 10;
  }
  write_image(dir.file("x.jpg"), flat);
  const Image got = prh::data::detail::read_image(dir.file("x.jpg"));
  ASSERT_EQ(got.channels, 3);
  EXPECT_EQ(got.height, 16);
  EXPECT_EQ(got.width, 24);
  EXPECT_NEAR(got.pixels[0], 200, 6);  // red stays first: BGR was turned into RGB
  EXPECT_NEAR(got.pixels[1], 40, 6);
  EXPECT_NEAR(got.pixels[2], 10, 6);
}

TEST(DataDecode, MissingAndCorruptFilesNameThePath) {
  TempDir dir;
  const std::string missing = dir.file("nope.png");
  EXPECT_EQ(input_error([&] { prh::data::detail::read_image(missing); }),
            missing + ": no such image file");
  const std::string corrupt = dir.file("bad.jpg");
  std::mt19937 rng(5);
  std::vector<std::uint8_t> junk(300);
  for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
  write_bytes(corrupt, junk);
  EXPECT_EQ(input_error([&] { prh::data::detail::read_image(corrupt); }),
            corrupt + ": cannot decode image (corrupt or not JPEG/PNG)");
}

// libjpeg decodes a cut JPEG with only a warning, the missing part grey: prh
// refuses it, naming the file (issue 24). Bytes after the end-of-image
// marker are harmless.
TEST(DataDecode, TruncatedJpegIsRefused) {
  TempDir dir;
  write_image(dir.file("whole.jpg"), pattern(64, 48, 3, 7));
  std::ifstream in(dir.file("whole.jpg"), std::ios::binary);
  const std::vector<std::uint8_t> all((std::istreambuf_iterator<char>(in)),
                                      std::istreambuf_iterator<char>());
  ASSERT_GT(all.size(), 300u);
  EXPECT_NO_THROW(prh::data::detail::read_image(dir.file("whole.jpg")));
  for (const std::size_t keep : {all.size() / 3, all.size() - 2, std::size_t{20}}) {
    const std::string cut = dir.file("cut" + std::to_string(keep) + ".jpg");
    write_bytes(cut, std::vector<std::uint8_t>(all.begin(), all.begin() + keep));
    const std::string e = input_error([&] { prh::data::detail::read_image(cut); });
    EXPECT_NE(e.find(cut + ": truncated or corrupt JPEG"), std::string::npos) << keep << ": " << e;
  }
  auto padded = all;
  padded.insert(padded.end(), {0, 0, 0, 0x12});
  write_bytes(dir.file("padded.jpg"), padded);
  EXPECT_NO_THROW(prh::data::detail::read_image(dir.file("padded.jpg")));
}

// A header declaring more than 8192 x 8192 pixels is refused before libjpeg
// or libpng allocates and decodes it (the fuzzer's tests/fuzz/image/
// crash-jpeg-huge-dims: 727 bytes declaring 379 million pixels, > 10 s).
TEST(DataDecode, HugeDeclaredSizeIsRefusedBeforeDecoding) {
  TempDir dir;
  const auto bytes_of = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
  };
  write_image(dir.file("small.jpg"), pattern(64, 48, 3, 7));
  auto jpg = bytes_of(dir.file("small.jpg"));
  std::size_t sof = 2;
  while (sof + 1 < jpg.size() && !(jpg[sof] == 0xFF && jpg[sof + 1] == 0xC0)) ++sof;
  ASSERT_LT(sof + 9, jpg.size());
  jpg[sof + 5] = 0x4E;  // height 20000
  jpg[sof + 6] = 0x20;
  jpg[sof + 7] = 0x4E;  // width 20000
  jpg[sof + 8] = 0x20;
  write_bytes(dir.file("huge.jpg"), jpg);
  std::string e = input_error([&] { prh::data::detail::read_image(dir.file("huge.jpg")); });
  EXPECT_NE(e.find(dir.file("huge.jpg") + ": an image of 20000 x 20000 pixels: at most 67108864"),
            std::string::npos)
      << e;

  write_image(dir.file("small.png"), pattern(5, 7, 3, 11));
  auto png = bytes_of(dir.file("small.png"));
  ASSERT_GT(png.size(), 24u);
  png[16] = 0, png[17] = 0, png[18] = 0x27, png[19] = 0x10;  // width 10000
  png[20] = 0, png[21] = 0, png[22] = 0x27, png[23] = 0x10;  // height 10000
  write_bytes(dir.file("huge.png"), png);
  e = input_error([&] { prh::data::detail::read_image(dir.file("huge.png")); });
  EXPECT_NE(e.find(dir.file("huge.png") + ": an image of 10000 x 10000 pixels"), std::string::npos)
      << e;
  // Sides of 32 bits each: the product would overflow (the fuzzer's
  // crash-png-huge-dims-overflow, a UBSan report).
  for (int k = 16; k < 24; ++k) png[static_cast<std::size_t>(k)] = 0xF0;
  write_bytes(dir.file("huger.png"), png);
  e = input_error([&] { prh::data::detail::read_image(dir.file("huger.png")); });
  EXPECT_NE(e.find("an image of 4042322160 x 4042322160 pixels"), std::string::npos) << e;
}

// --- Folder ---------------------------------------------------------------------

class FolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = (dir.path() / "root").string();
    write_image(dir.file("root/b/2.png"), pattern(3, 4, 3, 2));
    write_image(dir.file("root/b/1.png"), pattern(3, 4, 3, 1));
    write_image(dir.file("root/a/x.png"), pattern(5, 2, 3, 9));
    write_image(dir.file("root/a/sub/z.jpeg"), pattern(8, 8, 3));
    write_image(dir.file("root/a-b/y.PNG"), pattern(2, 2, 1, 4));
    write_image(dir.file("root/top.jpg"), pattern(8, 8, 3));
    write_text(dir.file("root/a/notes.txt"), "not an image");
    std::filesystem::create_directories(dir.path() / "root" / "empty_dir");
  }
  TempDir dir;
  std::string root;
};

TEST_F(FolderTest, SortedByPathWithImageFolderClasses) {
  const auto src = make_source(canonical({{"kind", "folder"}, {"root", root}}), "set 'f'");
  // Classes (first-level folders, sorted): a=0, a-b=1, b=2, empty_dir=3.
  // Files in component-wise path order ("a/..." before "a-b/..."); top.jpg: -1.
  const std::vector<std::string> rel{"a/sub/z.jpeg", "a/x.png", "a-b/y.PNG",
                                     "b/1.png",      "b/2.png", "top.jpg"};
  const std::vector<std::int64_t> labels{0, 0, 1, 2, 2, -1};
  ASSERT_EQ(src->size(), 6);
  for (std::int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(src->id(i), (std::filesystem::path(root) / rel[i]).string()) << i;
    EXPECT_EQ(src->label(i), labels[i]) << i;
  }
  const auto item = src->get(1);
  EXPECT_EQ(item.id, src->id(1));
  EXPECT_EQ(item.label, 0);
  EXPECT_EQ(item.image.height, 5);
  EXPECT_EQ(item.image.width, 2);
  EXPECT_EQ(item.image.pixels, pattern(5, 2, 3, 9).pixels);
  const auto grey = src->get(2);
  EXPECT_EQ(grey.image.channels, 1);
  EXPECT_EQ(grey.image.pixels, pattern(2, 2, 1, 4).pixels);
  EXPECT_EQ(src->get(4).image.pixels, pattern(3, 4, 3, 2).pixels);
}

TEST_F(FolderTest, LimitKeepsTheFirstInOrder) {
  const auto src = make_source(canonical({{"kind", "folder"}, {"root", root}, {"limit", 2}}), "s");
  ASSERT_EQ(src->size(), 2);
  EXPECT_EQ(src->id(1), (std::filesystem::path(root) / "a/x.png").string());
}

TEST_F(FolderTest, CorruptImageFailsOnGetOnly) {
  std::vector<std::uint8_t> junk(100, 0x5a);
  const std::string bad = dir.file("root/b/0.jpg");
  write_bytes(bad, junk);
  const auto src = make_source(canonical({{"kind", "folder"}, {"root", root}}), "s");
  ASSERT_EQ(src->size(), 7);
  EXPECT_EQ(src->id(3), bad);
  EXPECT_EQ(src->label(3), 2);
  EXPECT_EQ(input_error([&] { src->get(3); }),
            bad + ": cannot decode image (corrupt or not JPEG/PNG)");
  EXPECT_NO_THROW(src->get(4));
}

TEST_F(FolderTest, MissingOrEmptyFolderIsAnError) {
  EXPECT_TRUE(
      has_all(input_error([&] {
                make_source(canonical({{"kind", "folder"}, {"root", root + "/nope"}}), "set 'q'");
              }),
              {"set 'q'", root + "/nope", "does not exist"}));
  const std::string empty = (std::filesystem::path(root) / "empty_dir").string();
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(canonical({{"kind", "folder"}, {"root", empty}}), "set 'q'");
                      }),
                      {"set 'q'", empty, "no JPEG/PNG images"}));
  // Only a non-image file.
  const std::string text_only = (std::filesystem::path(root) / "a" / "sub").string();
  std::filesystem::remove(std::filesystem::path(text_only) / "z.jpeg");
  write_text(text_only + "/readme.md", "x");
  EXPECT_TRUE(
      has_all(input_error([&] {
                make_source(canonical({{"kind", "folder"}, {"root", text_only}}), "set 'q'");
              }),
              {"no JPEG/PNG images"}));
}

// --- List -------------------------------------------------------------------------

class ListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_image(dir.file("lists/imgs/a.png"), pattern(2, 3, 3, 1));
    write_image(dir.file("lists/imgs/b.png"), pattern(3, 2, 1, 2));
    write_image(dir.file("other/c.png"), pattern(4, 4, 3, 3));
  }
  std::string list(const std::string& text) {
    const std::string f = dir.file("lists/list.txt");
    write_text(f, text);
    return f;
  }
  TempDir dir;
};

TEST_F(ListTest, PathsRelativeToTheListFileAndLabels) {
  const std::string abs_c = (dir.path() / "other/c.png").string();
  const std::string f = list("# a comment\n\nimgs/a.png 3\n   imgs/b.png   \r\n" + abs_c +
                             "\t7\n  # indented comment\nimgs/a.png -1\n");
  const auto src = make_source(canonical({{"kind", "list"}, {"file", f}}), "s");
  ASSERT_EQ(src->size(), 4);
  const std::string base = (dir.path() / "lists").string();
  EXPECT_EQ(src->id(0), base + "/imgs/a.png");
  EXPECT_EQ(src->id(1), base + "/imgs/b.png");
  EXPECT_EQ(src->id(2), abs_c);
  EXPECT_EQ(src->label(0), 3);
  EXPECT_EQ(src->label(1), -1);
  EXPECT_EQ(src->label(2), 7);
  EXPECT_EQ(src->label(3), -1);
  const auto b = src->get(1);
  EXPECT_EQ(b.image.channels, 1);
  EXPECT_EQ(b.image.pixels, pattern(3, 2, 1, 2).pixels);
  EXPECT_EQ(b.label, -1);
  EXPECT_EQ(src->get(2).image.pixels, pattern(4, 4, 3, 3).pixels);

  const auto lim = make_source(canonical({{"kind", "list"}, {"file", f}, {"limit", 2}}), "s");
  EXPECT_EQ(lim->size(), 2);
}

TEST_F(ListTest, PathsRelativeToRootWhenGiven) {
  const std::string f = list("c.png 1\n");
  const std::string root = (dir.path() / "other").string();
  const auto src = make_source(canonical({{"kind", "list"}, {"file", f}, {"root", root}}), "s");
  ASSERT_EQ(src->size(), 1);
  EXPECT_EQ(src->id(0), root + "/c.png");
  EXPECT_EQ(src->get(0).image.pixels, pattern(4, 4, 3, 3).pixels);
}

TEST_F(ListTest, MalformedLabelNamesFileAndLine) {
  const std::string f = list("imgs/a.png 1\nimgs/b.png x3\n");
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(canonical({{"kind", "list"}, {"file", f}}), "s");
                      }),
                      {f + ":2", "'x3'", "not an integer"}));
  const std::string g = list("imgs/a.png 1.5\n");
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(canonical({{"kind", "list"}, {"file", g}}), "s");
                      }),
                      {g + ":1"}));
  const std::string h = list("\nimgs/a.png 1 2\n");
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(canonical({{"kind", "list"}, {"file", h}}), "s");
                      }),
                      {h + ":2", "expected 'path [label]'"}));
}

TEST_F(ListTest, MissingImageFailsOnGetAndEmptyListOrMissingListFail) {
  const std::string f = list("imgs/a.png\nimgs/gone.png 2\n");
  const auto src = make_source(canonical({{"kind", "list"}, {"file", f}}), "s");
  ASSERT_EQ(src->size(), 2);
  EXPECT_EQ(src->label(1), 2);
  const std::string gone = (dir.path() / "lists/imgs/gone.png").string();
  EXPECT_EQ(input_error([&] { src->get(1); }), gone + ": no such image file");

  const std::string e = list("# nothing\n\n");
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(canonical({{"kind", "list"}, {"file", e}}), "set 'e'");
                      }),
                      {"set 'e'", e, "names no images"}));
  const std::string nofile = (dir.path() / "nolist.txt").string();
  EXPECT_TRUE(has_all(input_error([&] {
                        make_source(canonical({{"kind", "list"}, {"file", nofile}}), "set 'e'");
                      }),
                      {"set 'e'", nofile, "does not exist"}));
}

// --- make_source ------------------------------------------------------------------

TEST(DataMakeSource, UnknownKindHdf5AndBadSpecs) {
  EXPECT_TRUE(has_all(input_error([] {
                        make_source(json{{"kind", "webdataset"}}, "image_sets[2] 'w'");
                      }),
                      {"image_sets[2] 'w'", "unknown source kind 'webdataset'"}));
  EXPECT_TRUE(
      has_all(input_error([] {
                make_source(json{{"kind", "hdf5"}, {"file", "x.h5"}, {"dataset", "d"}}, "set 'h'");
              }),
              {"set 'h'", "x.h5", "'d'", "does not exist"}));
  EXPECT_TRUE(has_all(input_error([] {
                        make_source(json{{"root", "x"}}, "set 'k'");
                      }),
                      {"set 'k'", "'kind'"}));
  EXPECT_TRUE(has_all(input_error([] { make_source(json::array(), "set 'k'"); }), {"set 'k'"}));
  EXPECT_TRUE(has_all(input_error([] {
                        make_source(
                            json{{"kind", "noise"}, {"count", "ten"}, {"height", 2}, {"width", 2}},
                            "set 'n'");
                      }),
                      {"set 'n'", "'count'"}));
}

}  // namespace
