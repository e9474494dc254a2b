// The sidecar YAML of a model and the file checksum (no torch in this file).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include <gtest/gtest.h>

#include "prh/core/error.hpp"
#include "prh/data/image.hpp"
#include "prh/models/model.hpp"

namespace {

namespace fs = std::filesystem;
using prh::models::file_checksum;
using prh::models::load_sidecar;

class SidecarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "prh-sidecar-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // Expects load_sidecar on `text` to throw an InputError whose message
  // names the file and holds each of `needles`.
  void expect_error(const std::string& text, std::initializer_list<std::string> needles) {
    const std::string p = write("bad.yaml", text);
    try {
      load_sidecar(p);
      ADD_FAILURE() << "no InputError for:\n" << text;
    } catch (const prh::InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p), std::string::npos) << msg;
      for (const std::string& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
    }
  }
  fs::path dir_;
};

TEST_F(SidecarTest, DefaultsFromInputSizeOnly) {
  const auto s = load_sidecar(write("m.yaml", "input_size: 224\n"));
  EXPECT_EQ(s.input_size, 224);
  EXPECT_EQ(s.transform.resize, 224);
  EXPECT_EQ(s.transform.crop, 224);
  EXPECT_EQ(s.transform.interpolation, "bicubic");
  EXPECT_EQ(s.transform.resampler, "pil");
  EXPECT_EQ(s.transform.channels, 3);
  EXPECT_EQ(s.transform.mean, (std::vector<float>{0.485f, 0.456f, 0.406f}));
  EXPECT_EQ(s.transform.std, (std::vector<float>{0.229f, 0.224f, 0.225f}));
  EXPECT_TRUE(s.layer_names.empty());
}

TEST_F(SidecarTest, AllFields) {
  if (!prh::data::have_opencv()) GTEST_SKIP() << "built without OpenCV: see OpenCVResampler";
  const auto s = load_sidecar(write("m.yaml",
                                    "# a ViT\n"
                                    "input_size: 224\n"
                                    "resize: 248\n"
                                    "crop: 224\n"
                                    "interpolation: bilinear\n"
                                    "resampler: opencv\n"
                                    "channels: 3\n"
                                    "mean: [0.5, 0.5, 0.5]\n"
                                    "std: [0.25, 0.5, 1]\n"
                                    "layer_names: [blocks.0, blocks.1, head]\n"));
  EXPECT_EQ(s.input_size, 224);
  EXPECT_EQ(s.transform.resize, 248);
  EXPECT_EQ(s.transform.crop, 224);
  EXPECT_EQ(s.transform.interpolation, "bilinear");
  EXPECT_EQ(s.transform.resampler, "opencv");
  EXPECT_EQ(s.transform.mean, (std::vector<float>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(s.transform.std, (std::vector<float>{0.25f, 0.5f, 1.0f}));
  EXPECT_EQ(s.layer_names, (std::vector<std::string>{"blocks.0", "blocks.1", "head"}));
}

// Without OpenCV (PRH_WITH_OPENCV=OFF) a sidecar asking for its resampler is
// refused when loaded, naming the sidecar; with OpenCV it loads (AllFields).
TEST_F(SidecarTest, OpenCVResampler) {
  const std::string text = "input_size: 8\nresampler: opencv\n";
  if (prh::data::have_opencv()) {
    EXPECT_EQ(load_sidecar(write("m.yaml", text)).transform.resampler, "opencv");
  } else {
    expect_error(text, {"resampler 'opencv'", "built without OpenCV", "PRH_WITH_OPENCV=OFF"});
  }
}

TEST_F(SidecarTest, GreyModelDefaultsToHalfMeanAndStd) {
  const auto s = load_sidecar(write("m.yaml", "input_size: 28\nchannels: 1\n"));
  EXPECT_EQ(s.transform.channels, 1);
  EXPECT_EQ(s.transform.mean, (std::vector<float>{0.5f}));
  EXPECT_EQ(s.transform.std, (std::vector<float>{0.5f}));
  const auto t = load_sidecar(write("n.yaml",
                                    "input_size: 28\nchannels: 1\nmean: [0.1307]\n"
                                    "std: [0.3081]\n"));
  EXPECT_EQ(t.transform.mean, (std::vector<float>{0.1307f}));
  EXPECT_EQ(t.transform.std, (std::vector<float>{0.3081f}));
}

TEST_F(SidecarTest, MissingFile) {
  const std::string p = (dir_ / "nope.yaml").string();
  try {
    load_sidecar(p);
    ADD_FAILURE() << "no InputError";
  } catch (const prh::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
}

TEST_F(SidecarTest, InputSizeRequiredAndPositiveInteger) {
  expect_error("resize: 10\n", {"input_size", "missing"});
  expect_error("input_size: abc\n", {"input_size", "positive integer", "abc"});
  expect_error("input_size: -3\n", {"input_size", "positive integer"});
  expect_error("input_size: 0\n", {"input_size"});
  expect_error("input_size: 3.5\n", {"input_size", "3.5"});
  expect_error("input_size: \"224\"\n", {"input_size"});
  expect_error("input_size: [224]\n", {"input_size", "list"});
  expect_error("input_size:\n", {"input_size"});
}

TEST_F(SidecarTest, UnknownAndDuplicateKeys) {
  expect_error("input_size: 224\nimage_size: 224\n", {"unknown field 'image_size'"});
  expect_error("input_size: 224\ninput_size: 224\n", {"input_size", "twice"});
}

TEST_F(SidecarTest, CropMustEqualInputSizeAndResizeCoverIt) {
  expect_error("input_size: 224\ncrop: 200\n", {"crop", "must equal 'input_size'"});
  expect_error("input_size: 224\nresize: 200\n", {"resize", "at least 'crop'"});
  expect_error("input_size: 224\nresize: big\n", {"resize", "big"});
}

TEST_F(SidecarTest, InterpolationAndChannels) {
  expect_error("input_size: 8\ninterpolation: nearest\n", {"interpolation", "nearest"});
  expect_error("input_size: 8\ninterpolation: [bicubic]\n", {"interpolation"});
  expect_error("input_size: 8\nresampler: torch\n", {"resampler", "torch", "pil", "opencv"});
  expect_error("input_size: 8\nchannels: 2\n", {"channels", "1 or 3"});
  expect_error("input_size: 8\nchannels: rgb\n", {"channels", "rgb"});
}

TEST_F(SidecarTest, MeanAndStd) {
  expect_error("input_size: 8\nmean: [0.5, 0.5]\n", {"mean", "3 numbers"});
  expect_error("input_size: 8\nchannels: 1\nstd: [0.5, 0.5, 0.5]\n", {"std", "1 numbers"});
  expect_error("input_size: 8\nmean: 0.5\n", {"mean", "list of numbers"});
  expect_error("input_size: 8\nmean: [0.5, x, 0.5]\n", {"mean", "element 1", "'x'"});
  expect_error("input_size: 8\nstd: [0.5, 0, 0.5]\n", {"std", "positive"});
  expect_error("input_size: 8\nstd: [0.5, .nan, 0.5]\n", {"std"});
}

TEST_F(SidecarTest, LayerNames) {
  expect_error("input_size: 8\nlayer_names: a\n", {"layer_names", "list of strings"});
  expect_error("input_size: 8\nlayer_names: [a, [b]]\n", {"layer_names", "element 1"});
  // Not UTF-8 (or a NUL, which first_invalid_utf8 counts as invalid): refused,
  // the bytes escaped in the message.
  expect_error("input_size: 8\nlayer_names: [a, \"b\\0c\", d]\n", {"layer_names", "element 1"});
  expect_error("input_size: 8\nlayer_names: [a, b\xff]\n",
               {"layer_names", "element 1", "b\\xff", "not valid UTF-8"});
}

// Random bytes, non-UTF-8 bytes anywhere and yaml-cpp's endless loop (a
// document starting with ','; the fuzzer's crash-comma-loop): an InputError
// whose message is UTF-8 and names the file, quickly.
TEST_F(SidecarTest, BadBytesAreInputErrors) {
  expect_error("input_size: 8\nres\xffize: 9\n", {"unknown field", "res\\xffize"});
  expect_error("input_size: \xfe\xff\n", {"input_size", "\\xfe\\xff"});
  expect_error(std::string("\x00\x9c\xff\x01,]", 6), {});
  expect_error(",e3-5 A, 3rue]", {"not valid YAML", "line 1, column 1", "unexpected ','"});
  expect_error("input_size: 8\n---\n\"a\",b]", {"not valid YAML", "line 3, column 4"});
  const std::string p = write("bad.yaml", "input_size: 8\nmean: [\xc3]\n");
  try {
    load_sidecar(p);
    ADD_FAILURE() << "no InputError";
  } catch (const prh::InputError& e) {
    EXPECT_EQ(prh::first_invalid_utf8(e.what()), std::string::npos) << e.what();
  }
}

TEST_F(SidecarTest, NotAMappingOrNotYaml) {
  expect_error("- input_size\n- 224\n", {"mapping"});
  expect_error("", {"mapping"});
  expect_error("input_size: [224\n", {"not valid YAML", "line"});
}

TEST(FileChecksum, KnownValuesAndStability) {
  std::string tmpl = (fs::temp_directory_path() / "prh-checksum-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  const auto write = [&](const std::string& name, const std::string& bytes) {
    const std::string p = (dir / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  };
  // FNV-1a 64 reference values.
  EXPECT_EQ(file_checksum(write("empty", "")), "cbf29ce484222325");
  EXPECT_EQ(file_checksum(write("a", "a")), "af63dc4c8601ec8c");
  EXPECT_EQ(file_checksum(write("foobar", "foobar")), "85944171f73967e8");
  // Larger than the read buffer, with every byte value; stable across calls.
  std::string big;
  for (int i = 0; i < 200000; ++i) big.push_back(static_cast<char>(i * 7 % 256));
  const std::string p = write("big", big);
  const std::string c = file_checksum(p);
  EXPECT_EQ(c.size(), 16u);
  EXPECT_EQ(c, file_checksum(p));
  big[123456] ^= 1;
  EXPECT_NE(c, file_checksum(write("big2", big)));
  EXPECT_THROW(file_checksum((dir / "missing").string()), prh::InputError);
  EXPECT_THROW(file_checksum(dir.string()), prh::InputError);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
