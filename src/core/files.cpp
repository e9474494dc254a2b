#include "prh/core/files.hpp"

#include <fstream>
#include <sstream>

#include "prh/core/error.hpp"

namespace prh {

std::string read_text(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  PRH_CHECK_INPUT(in.good(), "{}: cannot read the {}", path, what);
  std::stringstream ss;
  ss << in.rdbuf();
  PRH_CHECK_INPUT(!in.bad(), "{}: error while reading the {}", path, what);
  return ss.str();
}

}  // namespace prh
