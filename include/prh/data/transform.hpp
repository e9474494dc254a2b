#pragma once
// The transforms of timm's and torchvision's eval pipeline: resize the
// shorter side (bicubic or bilinear, antialiased as PIL does it), centre crop,
// scale to [0, 1], normalise by mean and std, and convert grey <-> RGB to the
// channels a model wants. The pixels equal those of the Python pipeline on a
// PIL image bit for bit (resampler "pil"); resampler "opencv" is OpenCV's
// plain cv::resize (no antialiasing), prh's resize before it matched PIL.

#include <string>
#include <vector>

#include "prh/data/image.hpp"

namespace prh::data {

struct Transform {
  int resize = 0;                         // shorter side is resized to this (0: no resize)
  int crop = 0;                           // centre crop to crop x crop (0: none)
  std::string interpolation = "bicubic";  // bicubic | bilinear
  std::string resampler = "pil";          // pil (PIL's, antialiased) | opencv
  int channels = 3;                       // 1 or 3: what the model wants
  std::vector<float> mean{0.485f, 0.456f, 0.406f};  // per channel, on the [0, 1] scale
  std::vector<float> std{0.229f, 0.224f, 0.225f};

  // Output size after the transform (requires crop > 0, or resize with a
  // square input).
  int out_height(const Image& in) const;
  int out_width(const Image& in) const;
};

// Applies t to img, writing channels x H x W floats (CHW) into out (resized).
void apply(const Transform& t, const Image& img, std::vector<float>& out);

}  // namespace prh::data
