#pragma once
// Small file helpers shared by the layers.

#include <cstddef>
#include <functional>
#include <string>

namespace prh {

// Most bytes read_text reads by default (a config, a job template, a record).
inline constexpr std::size_t kMaxTextBytes = std::size_t{16} << 20;

// The whole file as bytes; InputError naming `what` and the path when it
// cannot be read, is not a regular file (a FIFO, a device) or is larger
// than max_bytes.
std::string read_text(const std::string& path, const std::string& what = "file",
                      std::size_t max_bytes = kMaxTextBytes);

// Writes `path` atomically, the one way prh does it: `write` makes the whole
// file at the temporary name `path` + `suffix` (same directory, so the
// rename stays within one file system), which is then renamed to `path`. A
// reader, or a run after a kill, sees the whole file or the old one, never
// a cut-off one. If `write` throws, the temporary is removed and the error
// passes on; a failed rename is an InputError naming both paths.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string& tmp)>& write,
                      const std::string& suffix = ".tmp");

// write_atomically of a text; InputError naming the path when it cannot be
// written (a full disk, no permission).
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace prh
