#include "prh/core/files.hpp"

#include <filesystem>
#include <fstream>

#include "prh/core/error.hpp"

namespace prh {

std::string read_text(const std::string& path, const std::string& what, std::size_t max_bytes) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  PRH_CHECK_INPUT(std::filesystem::exists(st), "{}: cannot read the {}: no such file", path, what);
  // A FIFO would block, /dev/zero never ends: only regular files.
  PRH_CHECK_INPUT(std::filesystem::is_regular_file(st),
                  "{}: cannot read the {}: not a regular file", path, what);
  const auto size = std::filesystem::file_size(path, ec);
  PRH_CHECK_INPUT(!ec && size <= max_bytes,
                  "{}: the {} is {} bytes, more than the {} bytes prh reads as one", path, what,
                  size, max_bytes);
  std::ifstream in(path, std::ios::binary);
  PRH_CHECK_INPUT(in.good(), "{}: cannot read the {}", path, what);
  std::string text(static_cast<std::size_t>(size) + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  PRH_CHECK_INPUT(!in.bad(), "{}: error while reading the {}", path, what);
  text.resize(static_cast<std::size_t>(in.gcount()));
  PRH_CHECK_INPUT(text.size() <= size, "{}: the {} grew while it was read", path, what);
  return text;
}

void write_atomically(const std::string& path,
                      const std::function<void(const std::string& tmp)>& write,
                      const std::string& suffix) {
  const std::string tmp = path + suffix;
  std::error_code ec;
  try {
    write(tmp);
  } catch (...) {
    std::filesystem::remove(tmp, ec);
    throw;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const auto why = ec.message();
    std::filesystem::remove(tmp, ec);
    throw InputError(fmt::format("{}: cannot rename {} into place: {}", path, tmp, why));
  }
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    PRH_CHECK_INPUT(out.good(), "cannot write {} (no such folder, or no write permission?)", tmp);
    out << text;
    out.flush();
    PRH_CHECK_INPUT(out.good(), "cannot write {} (disk full?)", tmp);
  });
}

}  // namespace prh
