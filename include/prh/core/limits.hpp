#pragma once
// Sizes prh accepts, declared once (docs/config.md, "Limits"): the config
// reader, `prh validate` and the image sources check the same numbers, so a
// size that would exhaust memory is refused up front, naming the file or
// field, instead of ending in std::bad_alloc.

#include <cstdint>

namespace prh {

// Most images of a generated source (noise, shapes, patches): the store
// keeps an id per image in memory while it is made.
inline constexpr std::int64_t kMaxSetImages = 10'000'000;

// Most pixels of one image (8192 x 8192), whatever its source (IDX, HDF5,
// noise, decoded files): an image is decoded whole, then converted to
// floats.
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{8192} * 8192;

}  // namespace prh
