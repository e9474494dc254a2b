#pragma once
// Small file helpers shared by the layers.

#include <cstddef>
#include <string>

namespace prh {

// Most bytes read_text reads by default (a config, a job template, a record).
inline constexpr std::size_t kMaxTextBytes = std::size_t{16} << 20;

// The whole file as bytes; InputError naming `what` and the path when it
// cannot be read, is not a regular file (a FIFO, a device) or is larger
// than max_bytes.
std::string read_text(const std::string& path, const std::string& what = "file",
                      std::size_t max_bytes = kMaxTextBytes);

}  // namespace prh
