// libFuzzer target: a model's sidecar YAML (models::load_sidecar), read from
// a file as `prh embed` and `prh validate` read it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "prh/data/transform.hpp"
#include "prh/models/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = prh::fuzz::write_file("model.yaml", data, size);
  prh::fuzz::expect_input_errors_only([&] {
    const prh::models::Sidecar s = prh::models::load_sidecar(path);
    const prh::data::Transform& t = s.transform;
    prh::fuzz::require(s.input_size > 0 && t.crop == s.input_size && t.resize >= t.crop,
                       "0 < input_size == crop <= resize");
    prh::fuzz::require(t.channels == 1 || t.channels == 3, "channels 1 or 3");
    prh::fuzz::require(
        t.mean.size() == static_cast<std::size_t>(t.channels) && t.std.size() == t.mean.size(),
        "one mean and std per channel");
    // What embed does next with it: one small image through the transform.
    prh::data::Image img;
    img.height = 5;
    img.width = 7;
    img.channels = 3;
    img.pixels.assign(5 * 7 * 3, 128);
    std::vector<float> out;
    prh::data::apply(t, img, out);
    prh::fuzz::require(out.size() == static_cast<std::size_t>(t.channels) *
                                         static_cast<std::size_t>(s.input_size) *
                                         static_cast<std::size_t>(s.input_size),
                       "channels x input_size x input_size values");
  });
  return 0;
}
