#pragma once
// Helpers shared by the data-layer tests: a temporary folder, tiny images and
// the writers of fixtures (through the data layer's OpenCV code: the test
// target itself has no OpenCV include path).

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../src/data/detail.hpp"
#include "prh/config/config.hpp"
#include "prh/core/error.hpp"
#include "prh/data/image.hpp"

namespace data_test {

namespace fs = std::filesystem;
using prh::data::Image;

// A fresh folder under the system's temp folder, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "prh-data-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  // path() / rel as a string, creating the parent folders.
  std::string file(const std::string& rel) const {
    const fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    return p.string();
  }

 private:
  fs::path path_;
};

// An image whose byte k is (seed + 7 k) mod 256.
inline Image pattern(int h, int w, int c, int seed = 0) {
  Image img;
  img.height = h;
  img.width = w;
  img.channels = c;
  img.pixels.resize(static_cast<std::size_t>(h * w * c));
  for (std::size_t k = 0; k < img.pixels.size(); ++k)
    img.pixels[k] = static_cast<std::uint8_t>((seed + 7 * static_cast<int>(k)) % 256);
  return img;
}

inline Image make_image(int h, int w, int c, std::vector<std::uint8_t> px) {
  Image img;
  img.height = h;
  img.width = w;
  img.channels = c;
  img.pixels = std::move(px);
  return img;
}

inline void write_image(const std::string& path, const Image& img, int bits = 8,
                        bool alpha = false) {
  prh::data::detail::write_image(path, img, bits, alpha);
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// The message of the InputError that f throws (fails the test if none).
template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const prh::InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected InputError, nothing was thrown";
  return "";
}

// Whether msg holds every one of parts (the failure shows which is missing).
inline ::testing::AssertionResult has_all(const std::string& msg,
                                          std::initializer_list<std::string> parts) {
  for (const auto& p : parts)
    if (msg.find(p) == std::string::npos)
      return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << p << "\"";
  return ::testing::AssertionSuccess();
}

// The canonical spec of a source, as the config layer fills it in.
inline nlohmann::json canonical(const nlohmann::json& node) {
  std::vector<std::string> problems;
  auto s = prh::config::parse_source(node, "source", problems);
  EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems[0]);
  return s.spec;
}

}  // namespace data_test
