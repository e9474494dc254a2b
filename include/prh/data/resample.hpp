#pragma once
// PIL's antialiased resize of 8-bit images, bit for bit: what timm's and
// torchvision's eval transforms do to a PIL image (Image.resize with
// BILINEAR or BICUBIC, Pillow's ImagingResample in 8-bit mode). Separable:
// a horizontal pass rounded to 8 bits, then a vertical pass. When shrinking,
// the filter is stretched by the scale (support = filter support x scale), so
// every source pixel contributes: that is the antialiasing. Coefficients are
// normalised per output pixel and held in 22-bit fixed point, as in Pillow.

#include <cstdint>
#include <vector>

namespace prh::data {

enum class ResampleFilter {
  bilinear,  // triangle, support 1
  bicubic,   // Keys cubic with a = -0.5, support 2
};

// A rectangle of the resized image: rows [top, top + height), columns
// [left, left + width).
struct Window {
  int top = 0, left = 0, height = 0, width = 0;
};

// Resizes src (in_h x in_w x channels, interleaved, rows contiguous) to
// out_h x out_w with PIL's rules and writes only the pixels of `window` (what a
// following crop keeps) into out (window.height x window.width x channels).
// The pixels are those of the full resize: each output pixel depends only on
// its own coefficients. InputError for empty sizes or a window outside the
// output.
void resample_pil(const std::uint8_t* src, int in_h, int in_w, int channels, int out_h, int out_w,
                  ResampleFilter filter, const Window& window, std::vector<std::uint8_t>& out);

}  // namespace prh::data
