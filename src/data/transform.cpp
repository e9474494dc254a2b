// timm's and torchvision's eval transforms on 8-bit images: channel
// conversion, resize of the shorter side (PIL's antialiased resampler, or
// OpenCV's plain one), centre crop (torchvision's rules for sizes and
// offsets), then scale to [0, 1] and normalise, written CHW as float32 like
// torchvision's ToTensor + Normalize. With the PIL resampler only the pixels
// of the crop are computed (they equal those of the full resize).

#include <string>
#include <utility>
#include <vector>

#ifdef PRH_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "prh/core/error.hpp"
#include "prh/data/resample.hpp"
#include "prh/data/transform.hpp"

namespace prh::data {

namespace {

void check_image(const Image& img) {
  PRH_CHECK_INPUT(img.height > 0 && img.width > 0, "transform: image of {} x {} pixels is empty",
                  img.height, img.width);
  PRH_CHECK_INPUT(img.channels == 1 || img.channels == 3,
                  "transform: image has {} channels (1 or 3 expected)", img.channels);
  PRH_CHECK_INPUT(img.pixels.size() == static_cast<std::size_t>(img.height) *
                                           static_cast<std::size_t>(img.width) *
                                           static_cast<std::size_t>(img.channels),
                  "transform: image of {} x {} x {} has {} bytes", img.height, img.width,
                  img.channels, img.pixels.size());
}

// Size after resizing the shorter side to t.resize, torchvision's rule:
// long side = int(resize * long / short) (truncated), no change when the
// shorter side already has that size.
std::pair<int, int> resized_size(const Transform& t, int h, int w) {
  if (t.resize <= 0) return {h, w};
  const bool h_short = h <= w;
  const int shrt = h_short ? h : w, lng = h_short ? w : h;
  if (shrt == t.resize) return {h, w};
  const auto other = static_cast<int>(static_cast<double>(std::int64_t{t.resize} * lng) / shrt);
  return h_short ? std::pair<int, int>{t.resize, other} : std::pair<int, int>{other, t.resize};
}

// torchvision's centre-crop offset: int(round((size - crop) / 2.0)), where
// Python's round() takes halves to even.
int crop_offset(int size, int crop) {
  const int d = size - crop;
  if (d % 2 == 0) return d / 2;
  const int k = d / 2;  // d = 2k + 1: round(k + 0.5) is the even one of k, k + 1
  return k % 2 == 0 ? k : k + 1;
}

void check_transform(const Transform& t) {
  PRH_CHECK_INPUT(t.channels == 1 || t.channels == 3,
                  "transform: 'channels' must be 1 or 3 (got {})", t.channels);
  const auto nc = static_cast<std::size_t>(t.channels);
  PRH_CHECK_INPUT(t.mean.size() == nc && t.std.size() == nc,
                  "transform: 'mean' and 'std' need {} values (one per channel), got {} and {}", nc,
                  t.mean.size(), t.std.size());
  for (std::size_t c = 0; c < nc; ++c)
    PRH_CHECK_INPUT(t.std[c] > 0, "transform: 'std' must be > 0, got {} for channel {}", t.std[c],
                    c);
  PRH_CHECK_INPUT(t.resize >= 0 && t.crop >= 0,
                  "transform: 'resize' ({}) and 'crop' ({}) must be >= 0", t.resize, t.crop);
  PRH_CHECK_INPUT(t.interpolation == "bicubic" || t.interpolation == "bilinear",
                  "transform: 'interpolation' must be 'bicubic' or 'bilinear' (got '{}')",
                  t.interpolation);
  PRH_CHECK_INPUT(t.resampler == "pil" || t.resampler == "opencv",
                  "transform: 'resampler' must be 'pil' or 'opencv' (got '{}')", t.resampler);
  // Sidecars are checked when loaded (models::load_sidecar names the model);
  // this is the last line of defence for a Transform made in code.
  if (t.resampler == "opencv" && !have_opencv())
    throw InputError(without_opencv("transform", "resampler 'opencv'"));
}

// 1. Channels, on the 8-bit image: img's pixels with `channels` channels,
// in `converted` when they differ from img's.
const std::uint8_t* convert_channels(const Image& img, int channels,
                                     std::vector<std::uint8_t>& converted) {
  const std::uint8_t* src = img.pixels.data();
  if (img.channels == channels) return src;
  const std::size_t npx =
      static_cast<std::size_t>(img.height) * static_cast<std::size_t>(img.width);
  converted.resize(npx * static_cast<std::size_t>(channels));
  if (channels == 3) {  // grey -> RGB: replicate
    for (std::size_t p = 0; p < npx; ++p)
      converted[3 * p] = converted[3 * p + 1] = converted[3 * p + 2] = src[p];
  } else {  // RGB -> grey: luma 0.299 R + 0.587 G + 0.114 B, rounded (PIL's fixed point)
    for (std::size_t p = 0; p < npx; ++p) {
      const std::uint32_t v =
          19595u * src[3 * p] + 38470u * src[3 * p + 1] + 7471u * src[3 * p + 2] + 0x8000u;
      converted[p] = static_cast<std::uint8_t>(v >> 16);
    }
  }
  return converted.data();
}

// 2. Resize the shorter side and 3. centre crop: the window of the resized
// image (rh x rw) that the model sees.
Window crop_window(const Transform& t, int h, int w, int rh, int rw) {
  PRH_CHECK_INPUT(rh >= 1 && rw >= 1,
                  "transform: resizing {} x {} to shorter side {} gives {} x {}", h, w, t.resize,
                  rh, rw);
  if (t.crop <= 0) return Window{0, 0, rh, rw};
  PRH_CHECK_INPUT(t.crop <= rh && t.crop <= rw,
                  "transform: centre crop {} x {} is larger than the image ({} x {} after "
                  "resizing {} x {} to shorter side {})",
                  t.crop, t.crop, rh, rw, h, w, t.resize);
  return Window{crop_offset(rh, t.crop), crop_offset(rw, t.crop), t.crop, t.crop};
}

// The window's pixels after the resize: rows of `row_stride` bytes at
// `pixels`, which point into the source image or into this struct's buffers.
struct WindowPixels {
  const std::uint8_t* pixels = nullptr;
  std::size_t row_stride = 0;
  std::vector<std::uint8_t> resampled;
#ifdef PRH_HAVE_OPENCV
  cv::Mat resized;
#endif
};

void resize_window(const Transform& t, const std::uint8_t* src, int h, int w, int rh, int rw,
                   const Window& window, WindowPixels& out) {
  const auto nc = static_cast<std::size_t>(t.channels);
  if (rh == h && rw == w) {  // no resize (PIL and torchvision copy the image)
    out.row_stride = static_cast<std::size_t>(w) * nc;
    out.pixels = src + static_cast<std::size_t>(window.top) * out.row_stride +
                 static_cast<std::size_t>(window.left) * nc;
  } else if (t.resampler == "pil") {
    resample_pil(src, h, w, t.channels, rh, rw,
                 t.interpolation == "bilinear" ? ResampleFilter::bilinear : ResampleFilter::bicubic,
                 window, out.resampled);
    out.pixels = out.resampled.data();
    out.row_stride = static_cast<std::size_t>(window.width) * nc;
  } else {
#ifdef PRH_HAVE_OPENCV
    const cv::Mat m(h, w, CV_8UC(t.channels), const_cast<std::uint8_t*>(src));
    cv::resize(m, out.resized, cv::Size(rw, rh), 0, 0,
               t.interpolation == "bilinear" ? cv::INTER_LINEAR : cv::INTER_CUBIC);
    out.row_stride = out.resized.step[0];
    out.pixels =
        out.resized.ptr<std::uint8_t>(window.top) + static_cast<std::size_t>(window.left) * nc;
#else
    PRH_ASSERT(false, "transform: resampler 'opencv' without OpenCV (checked above)");
#endif
  }
}

// 4. Scale, normalise, HWC -> CHW.
void normalise_chw(const Transform& t, const WindowPixels& in, int oh, int ow,
                   std::vector<float>& out) {
  const auto nc = static_cast<std::size_t>(t.channels);
  const std::size_t plane = static_cast<std::size_t>(oh) * static_cast<std::size_t>(ow);
  out.resize(plane * nc);
  for (std::size_t c = 0; c < nc; ++c) {
    const float mean = t.mean[c], sd = t.std[c];
    float* dst = out.data() + c * plane;
    for (int y = 0; y < oh; ++y) {
      const std::uint8_t* row = in.pixels + static_cast<std::size_t>(y) * in.row_stride;
      for (int x = 0; x < ow; ++x) {
        const float v = static_cast<float>(row[static_cast<std::size_t>(x) * nc + c]) / 255.0f;
        dst[static_cast<std::size_t>(y) * static_cast<std::size_t>(ow) +
            static_cast<std::size_t>(x)] = (v - mean) / sd;
      }
    }
  }
}

}  // namespace

int Transform::out_height(const Image& in) const {
  return crop > 0 ? crop : resized_size(*this, in.height, in.width).first;
}

int Transform::out_width(const Image& in) const {
  return crop > 0 ? crop : resized_size(*this, in.height, in.width).second;
}

void apply(const Transform& t, const Image& img, std::vector<float>& out) {
  check_image(img);
  check_transform(t);
  std::vector<std::uint8_t> converted;
  const std::uint8_t* src = convert_channels(img, t.channels, converted);
  const int h = img.height, w = img.width;
  const auto [rh, rw] = resized_size(t, h, w);
  const Window window = crop_window(t, h, w, rh, rw);
  WindowPixels pixels;
  resize_window(t, src, h, w, rh, rw, window, pixels);
  normalise_chw(t, pixels, window.height, window.width, out);
}

}  // namespace prh::data
