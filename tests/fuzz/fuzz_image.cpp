// libFuzzer target: image files as prh decodes them (cv::imread through
// data::detail::read_image: the folder, list and patches sources), then what
// embed does with one: the default transform to 224 x 224.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../../src/data/detail.hpp"
#include "fuzz_common.hpp"
#include "prh/data/image.hpp"
#include "prh/data/transform.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The name's extension does not matter to OpenCV (it reads the signature).
  const std::string path = prh::fuzz::write_file("input.img", data, size);
  prh::fuzz::expect_input_errors_only([&] {
    const prh::data::Image im = prh::data::detail::read_image(path);
    prh::fuzz::require(im.height >= 1 && im.width >= 1, "a decoded image is not empty");
    prh::fuzz::require(im.channels == 1 || im.channels == 3, "grey or RGB");
    prh::fuzz::require(im.pixels.size() == static_cast<std::size_t>(im.height) *
                                               static_cast<std::size_t>(im.width) *
                                               static_cast<std::size_t>(im.channels),
                       "height x width x channels bytes");
    prh::data::Transform t;
    t.resize = 32;
    t.crop = 32;
    std::vector<float> out;
    prh::data::apply(t, im, out);
    prh::fuzz::require(out.size() == 3u * 32u * 32u, "3 x 32 x 32 values");
  });
  return 0;
}
