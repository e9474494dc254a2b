#pragma once
// Small file helpers shared by the layers.

#include <string>

namespace prh {

// The whole file as bytes; InputError naming `what` and the path when it
// cannot be read.
std::string read_text(const std::string& path, const std::string& what = "file");

}  // namespace prh
