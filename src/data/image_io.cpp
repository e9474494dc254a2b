// Decoding (and, for test fixtures, encoding) JPEG/PNG files with OpenCV.
// Without OpenCV (PRH_WITH_OPENCV=OFF: machines whose only OpenCV is
// opencv-python, e.g. the GPU image) every use of a file is a clear
// InputError, raised where the source that needs files is made.

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#ifdef PRH_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "detail.hpp"
#include "prh/core/error.hpp"
#include "prh/core/limits.hpp"

namespace prh::data {

bool have_opencv() {
#ifdef PRH_HAVE_OPENCV
  return true;
#else
  return false;
#endif
}

std::string without_opencv(const std::string& what, const std::string& needs) {
  return fmt::format(
      "{}: {} needs OpenCV, but this prh was built without OpenCV (PRH_WITH_OPENCV=OFF); the "
      "noise, shapes and generated sources and the 'pil' resampler work without it, or rebuild "
      "prh with OpenCV's C++ libraries",
      what, needs);
}

}  // namespace prh::data

namespace prh::data::detail {

void require_opencv(const std::string& what, const std::string& needs) {
  if (!have_opencv()) throw InputError(without_opencv(what, needs));
}

#ifdef PRH_HAVE_OPENCV

namespace {

[[noreturn]] void cannot_decode(const std::string& path) {
  throw InputError(fmt::format("{}: cannot decode image (corrupt or not JPEG/PNG)", path));
}

// Where a JPEG's structure ends early, or "" when it is whole: the marker
// segments from SOI are walked by their lengths, each scan's entropy-coded
// data up to the next marker, until EOI. libjpeg decodes a cut file with
// only a warning ("Premature end of JPEG file"), filling the rest grey; an
// embedded thumbnail's EOI lies inside its APP1 segment and is skipped.
std::string jpeg_truncation(const std::vector<unsigned char>& b) {
  const std::size_t n = b.size();
  std::size_t i = 2;  // after SOI
  while (true) {
    while (i < n && b[i] == 0xFF) ++i;  // fill bytes before a marker
    if (i >= n) return "the file ends before its end-of-image marker";
    const unsigned char marker = b[i++];
    if (marker == 0xD9) return "";                                       // EOI
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (i + 2 > n) return "the file ends inside a marker segment";
    const std::size_t len = (std::size_t{b[i]} << 8) | b[i + 1];
    if (len < 2 || i + len > n) return "the file ends inside a marker segment";
    i += len;
    if (marker != 0xDA) continue;
    // SOS: entropy-coded data until a marker other than a stuffed 0xFF00
    // or a restart marker.
    while (true) {
      while (i < n && b[i] != 0xFF) ++i;
      if (i + 1 >= n) return "the file ends inside the image data";
      const unsigned char next = b[i + 1];
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF) {
        i += next == 0xFF ? 1 : 2;
        continue;
      }
      break;
    }
  }
}

// The height and width in a JPEG's frame header (SOF0..SOF15 but DHT, JPG,
// DAC), walking the marker segments before the first scan; 0 x 0 if none.
std::pair<std::int64_t, std::int64_t> jpeg_size(const std::vector<unsigned char>& b) {
  const std::size_t n = b.size();
  std::size_t i = 2;  // after SOI
  while (i < n) {
    while (i < n && b[i] == 0xFF) ++i;
    if (i >= n) break;
    const unsigned char marker = b[i++];
    if (marker == 0xD9 || marker == 0xDA) break;                         // EOI, SOS
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (i + 2 > n) break;
    const std::size_t len = (std::size_t{b[i]} << 8) | b[i + 1];
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && len >= 7 && i + 7 <= n)
      return {(std::int64_t{b[i + 3]} << 8) | b[i + 4], (std::int64_t{b[i + 5]} << 8) | b[i + 6]};
    if (len < 2) break;
    i += len;
  }
  return {0, 0};
}

// An image of more than kMaxImagePixels is refused before it is decoded
// (libjpeg and libpng would allocate and decode it whole: a 700-byte JPEG
// can declare 19,000 x 19,000 pixels).
void check_pixels(const std::string& path, std::int64_t height, std::int64_t width) {
  // Divided, not multiplied: a PNG's sides are 32-bit each.
  PRH_CHECK_INPUT(width <= 0 || height <= kMaxImagePixels / width,
                  "{}: an image of {} x {} pixels: at most {} pixels an image", path, width, height,
                  kMaxImagePixels);
}

// A PNG's size, from its IHDR chunk (bytes 16..23), checked before decoding.
void check_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char h[24] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  static const unsigned char kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (in.gcount() != 24 || std::memcmp(h, kSig, 8) != 0 || std::memcmp(h + 12, "IHDR", 4) != 0)
    return;
  const auto be32 = [&](int at) {
    return (std::int64_t{h[at]} << 24) | (std::int64_t{h[at + 1]} << 16) |
           (std::int64_t{h[at + 2]} << 8) | std::int64_t{h[at + 3]};
  };
  check_pixels(path, be32(20), be32(16));
}

// A JPEG file (it starts with SOI) is checked whole before decoding.
void check_jpeg(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char soi[2] = {0, 0};
  in.read(reinterpret_cast<char*>(soi), 2);
  if (in.gcount() != 2 || soi[0] != 0xFF || soi[1] != 0xD8) return;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  std::vector<unsigned char> bytes(size);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  const std::string why = jpeg_truncation(bytes);
  PRH_CHECK_INPUT(why.empty(),
                  "{}: truncated or corrupt JPEG ({}); libjpeg would decode it with "
                  "the missing part grey",
                  path, why);
  const auto [height, width] = jpeg_size(bytes);
  check_pixels(path, height, width);
}

}  // namespace

Image read_image(const std::string& path) {
  std::error_code ec;
  PRH_CHECK_INPUT(std::filesystem::exists(path, ec), "{}: no such image file", path);
  check_jpeg(path);
  check_png(path);
  cv::Mat m;
  try {
    m = cv::imread(path, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception&) {
    cannot_decode(path);
  }
  if (m.empty() || m.dims != 2 || m.rows <= 0 || m.cols <= 0) cannot_decode(path);
  check_pixels(path, m.rows, m.cols);  // any other format, once decoded
  try {
    if (m.depth() == CV_16U) {
      cv::Mat m8;
      m.convertTo(m8, CV_8U, 1.0 / 257.0);
      m = m8;
    } else if (m.depth() != CV_8U) {
      cannot_decode(path);
    }
    cv::Mat out;
    switch (m.channels()) {
      case 1:
        out = m;
        break;
      case 2:  // grey + alpha: keep the grey
        cv::extractChannel(m, out, 0);
        break;
      case 3:
        cv::cvtColor(m, out, cv::COLOR_BGR2RGB);
        break;
      case 4:
        cv::cvtColor(m, out, cv::COLOR_BGRA2RGB);
        break;
      default:
        cannot_decode(path);
    }
    if (!out.isContinuous()) out = out.clone();
    Image img;
    img.height = out.rows;
    img.width = out.cols;
    img.channels = out.channels();
    img.pixels.assign(out.data, out.data + out.total() * out.elemSize());
    return img;
  } catch (const cv::Exception&) {
    cannot_decode(path);
  }
}

void write_image(const std::string& path, const Image& img, int bits, bool alpha) {
  PRH_ASSERT(img.channels == 1 || img.channels == 3, "write_image: {} channels", img.channels);
  PRH_ASSERT(img.pixels.size() == static_cast<std::size_t>(img.height) *
                                      static_cast<std::size_t>(img.width) *
                                      static_cast<std::size_t>(img.channels),
             "write_image: pixel buffer of the wrong size");
  PRH_ASSERT(bits == 8 || bits == 16, "write_image: bits must be 8 or 16");
  PRH_ASSERT(!alpha || img.channels == 3, "write_image: alpha needs an RGB image");
  cv::Mat rgb(img.height, img.width, CV_8UC(img.channels),
              const_cast<std::uint8_t*>(img.pixels.data()));
  cv::Mat m;
  if (img.channels == 1)
    m = rgb.clone();
  else
    cv::cvtColor(rgb, m, alpha ? cv::COLOR_RGB2BGRA : cv::COLOR_RGB2BGR);
  if (bits == 16) {
    cv::Mat m16;
    m.convertTo(m16, CV_16U, 257.0);
    m = m16;
  }
  bool ok = false;
  try {
    ok = cv::imwrite(path, m);
  } catch (const cv::Exception& e) {
    throw InternalError(fmt::format("{}: cannot write image: {}", path, e.what()));
  }
  PRH_ASSERT(ok, "{}: cannot write image", path);
}

#else  // no OpenCV

Image read_image(const std::string& path) {
  throw InputError(without_opencv(path, "decoding an image file"));
}

void write_image(const std::string& path, const Image&, int, bool) {
  throw InternalError(without_opencv(path, "writing an image file"));
}

#endif

}  // namespace prh::data::detail

namespace prh::data {
void set_threads([[maybe_unused]] int n) {
#ifdef PRH_HAVE_OPENCV
  cv::setNumThreads(n);
#endif
}
}  // namespace prh::data
