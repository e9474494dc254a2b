// libFuzzer target: the .npy reader of imported features (src/store/npy.cpp)
// through store::feature_shape and store::read_feature_rows, as `prh embed`
// reads a model's FILE.npy: the header, then blocks of rows. A hostile
// header must be an InputError, never a crash or an allocation that the
// file does not back.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "prh/store/imported_features.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = prh::fuzz::write_file("input.npy", data, size);
  prh::fuzz::expect_input_errors_only([&] {
    const auto shape = prh::store::feature_shape(path);
    prh::fuzz::require(shape.n >= 1 && shape.layers >= 1 && shape.dim >= 1, "a non-empty array");
    // The data fill the file: no shape larger than the input is believed.
    prh::fuzz::require(static_cast<std::uint64_t>(shape.n) *
                               static_cast<std::uint64_t>(shape.layers) *
                               static_cast<std::uint64_t>(shape.dim) * 2 <=
                           size,
                       "the array fits the file");
    std::vector<float> out;
    for (std::int64_t r0 = 0; r0 < shape.n && r0 < 64; r0 += 3) {
      const std::int64_t rows = std::min<std::int64_t>(3, shape.n - r0);
      prh::store::read_feature_rows(path, r0, rows, out);
      prh::fuzz::require(out.size() == static_cast<std::size_t>(rows * shape.layers * shape.dim),
                         "rows x L x D floats");
    }
  });
  return 0;
}
