// libFuzzer target: the IDX (MNIST) reader, plain or gzip, through the idx
// source as `prh embed` makes it (data::make_source). The first byte picks
// which file the rest of the input is:
//   even: the images file (no labels);
//   odd:  the labels file, beside a valid images file of 3 images of 2 x 2
//         (and, when the byte is 1 mod 4, a class filter).
// Every image the source holds is then read.

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_common.hpp"
#include "prh/data/image.hpp"

namespace {

const std::string& valid_images() {
  static const std::string path = [] {
    const std::uint8_t bytes[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2,  0,  0,
                                  0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    return prh::fuzz::write_file("valid-images.idx", bytes, sizeof bytes);
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const std::string path = prh::fuzz::write_file("input.idx", data + 1, size - 1);
  nlohmann::json spec{{"kind", "idx"}};
  if (mode % 2 == 0) {
    spec["images"] = path;
  } else {
    spec["images"] = valid_images();
    spec["labels"] = path;
    if (mode % 4 == 1) spec["classes"] = {0, 1, 2, 7};
  }
  prh::fuzz::expect_input_errors_only([&] {
    const auto source = prh::data::make_source(spec, "image_sets[0] 'fuzz'");
    const std::int64_t n = source->size();
    prh::fuzz::require(n >= 1, "a source holds at least one image");
    for (std::int64_t i = 0; i < n && i < 64; ++i) {
      const prh::data::Item item = source->get(i);
      const auto& im = item.image;
      prh::fuzz::require(im.height >= 1 && im.width >= 1 && im.channels == 1,
                         "an IDX image is grey and not empty");
      prh::fuzz::require(im.pixels.size() == static_cast<std::size_t>(im.height) *
                                                 static_cast<std::size_t>(im.width),
                         "rows x cols pixels");
    }
  });
  return 0;
}
