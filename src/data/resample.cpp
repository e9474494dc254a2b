// PIL's antialiased resize in 8-bit mode (Pillow's Resample.c, the path of
// Image.resize for "L" and "RGB" images), restricted to an output window.
// Every arithmetic step follows Pillow so that the bytes are the same: the
// coefficients in double, normalised per output pixel, converted to 22-bit
// fixed point with rounding away from zero; sums in int32 starting at one
// half; results clipped to [0, 255]; the horizontal pass first, rounded to
// 8 bits, then the vertical pass on its output.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/data/resample.hpp"

namespace prh::data {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // two bits of headroom for negative lobes
constexpr std::int32_t kHalf = std::int32_t{1} << (kPrecisionBits - 1);

double bilinear(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// The taps of one pass, for output positions [first, first + count):
// position i reads `taps[i]` inputs from `start[i]` on, with the weights
// k[i * ksize ...] (fixed point).
struct Taps {
  int ksize = 0;
  std::vector<int> start, taps;
  std::vector<std::int32_t> k;
};

Taps precompute(int in_size, int out_size, ResampleFilter f, int first, int count) {
  const double support0 = f == ResampleFilter::bicubic ? 2.0 : 1.0;
  double (*const fn)(double) = f == ResampleFilter::bicubic ? bicubic : bilinear;
  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = support0 * filterscale;
  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.start.resize(static_cast<std::size_t>(count));
  t.taps.resize(static_cast<std::size_t>(count));
  t.k.assign(static_cast<std::size_t>(count) * static_cast<std::size_t>(t.ksize), 0);
  std::vector<double> w(static_cast<std::size_t>(t.ksize));
  const double ss = 1.0 / filterscale;
  for (int i = 0; i < count; ++i) {
    const int xx = first + i;
    const double center = (xx + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);  // truncation, as Pillow
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[static_cast<std::size_t>(x)] = fn((x + xmin - center + 0.5) * ss);
      ww += w[static_cast<std::size_t>(x)];
    }
    std::int32_t* k = &t.k[static_cast<std::size_t>(i) * static_cast<std::size_t>(t.ksize)];
    for (int x = 0; x < xmax; ++x) {
      double v = w[static_cast<std::size_t>(x)];
      if (ww != 0.0) v /= ww;
      k[x] = v < 0 ? static_cast<std::int32_t>(-0.5 + v * (1 << kPrecisionBits))
                   : static_cast<std::int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    t.start[static_cast<std::size_t>(i)] = xmin;
    t.taps[static_cast<std::size_t>(i)] = xmax;
  }
  return t;
}

inline std::uint8_t clip8(std::int32_t v) {
  v >>= kPrecisionBits;  // arithmetic shift: floor, as Pillow's table lookup
  return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Horizontal pass: rows [r0, r1) of src (row stride `stride` bytes), one
// output row per source row, the window's columns.
template <int C>
void horizontal(const std::uint8_t* src, std::size_t stride, int r0, int r1, const Taps& t,
                std::uint8_t* dst) {
  const int n = static_cast<int>(t.start.size());
  for (int r = r0; r < r1; ++r) {
    const std::uint8_t* row = src + static_cast<std::size_t>(r) * stride;
    for (int i = 0; i < n; ++i) {
      const std::int32_t* k = &t.k[static_cast<std::size_t>(i) * static_cast<std::size_t>(t.ksize)];
      const std::uint8_t* p =
          row + static_cast<std::size_t>(t.start[static_cast<std::size_t>(i)]) * C;
      const int taps = t.taps[static_cast<std::size_t>(i)];
      std::int32_t s[C];
      for (int c = 0; c < C; ++c) s[c] = kHalf;
      for (int x = 0; x < taps; ++x)
        for (int c = 0; c < C; ++c) s[c] += static_cast<std::int32_t>(p[x * C + c]) * k[x];
      for (int c = 0; c < C; ++c) *dst++ = clip8(s[c]);
    }
  }
}

// Vertical pass: src rows are `row_bytes` long (stride `stride`), row 0 is
// source row `r0`; one output row per window row.
void vertical(const std::uint8_t* src, std::size_t stride, std::size_t row_bytes, int r0,
              const Taps& t, std::uint8_t* dst) {
  std::vector<std::int32_t> acc(row_bytes);
  const int n = static_cast<int>(t.start.size());
  for (int i = 0; i < n; ++i) {
    const std::int32_t* k = &t.k[static_cast<std::size_t>(i) * static_cast<std::size_t>(t.ksize)];
    const int first = t.start[static_cast<std::size_t>(i)] - r0;
    const int taps = t.taps[static_cast<std::size_t>(i)];
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int y = 0; y < taps; ++y) {
      const std::uint8_t* row = src + static_cast<std::size_t>(first + y) * stride;
      const std::int32_t ky = k[y];
      for (std::size_t e = 0; e < row_bytes; ++e) acc[e] += static_cast<std::int32_t>(row[e]) * ky;
    }
    for (std::size_t e = 0; e < row_bytes; ++e) *dst++ = clip8(acc[e]);
  }
}

}  // namespace

void resample_pil(const std::uint8_t* src, int in_h, int in_w, int channels, int out_h, int out_w,
                  ResampleFilter filter, const Window& win, std::vector<std::uint8_t>& out) {
  PRH_CHECK_INPUT(in_h > 0 && in_w > 0 && out_h > 0 && out_w > 0,
                  "resample: cannot resize {} x {} to {} x {} (sizes must be positive)", in_h, in_w,
                  out_h, out_w);
  PRH_CHECK_INPUT(channels == 1 || channels == 3, "resample: {} channels (1 or 3 expected)",
                  channels);
  PRH_CHECK_INPUT(win.top >= 0 && win.left >= 0 && win.height > 0 && win.width > 0 &&
                      win.top + win.height <= out_h && win.left + win.width <= out_w,
                  "resample: window of {} x {} at ({}, {}) is outside the {} x {} output",
                  win.height, win.width, win.top, win.left, out_h, out_w);
  const auto c = static_cast<std::size_t>(channels);
  const std::size_t in_stride = static_cast<std::size_t>(in_w) * c;
  const std::size_t row_bytes = static_cast<std::size_t>(win.width) * c;
  out.resize(static_cast<std::size_t>(win.height) * row_bytes);

  // Pillow skips a pass whose size does not change (it would be the identity).
  const bool need_h = out_w != in_w, need_v = out_h != in_h;
  Taps vt;
  int r0 = win.top, r1 = win.top + win.height;  // source rows the window needs
  if (need_v) {
    vt = precompute(in_h, out_h, filter, win.top, win.height);
    r0 = vt.start.front();
    r1 = vt.start.back() + vt.taps.back();
  }

  // Horizontal pass (or the window's columns as they are).
  std::vector<std::uint8_t> tmp;
  const std::uint8_t* mid = nullptr;
  std::size_t mid_stride = 0;
  int mid_r0 = 0;  // source row of mid's row 0
  if (need_h) {
    const Taps ht = precompute(in_w, out_w, filter, win.left, win.width);
    tmp.resize(static_cast<std::size_t>(r1 - r0) * row_bytes);
    if (channels == 3)
      horizontal<3>(src, in_stride, r0, r1, ht, tmp.data());
    else
      horizontal<1>(src, in_stride, r0, r1, ht, tmp.data());
    mid = tmp.data();
    mid_stride = row_bytes;
    mid_r0 = r0;
  } else {
    mid = src + static_cast<std::size_t>(win.left) * c;
    mid_stride = in_stride;
    mid_r0 = 0;
  }

  if (need_v) {
    vertical(mid, mid_stride, row_bytes, mid_r0, vt, out.data());
  } else {
    for (int y = 0; y < win.height; ++y) {
      const std::uint8_t* row = mid + static_cast<std::size_t>(win.top + y - mid_r0) * mid_stride;
      std::copy(row, row + row_bytes, out.data() + static_cast<std::size_t>(y) * row_bytes);
    }
  }
}

}  // namespace prh::data
