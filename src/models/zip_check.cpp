// The CRC-32 of every member of a TorchScript file (a zip archive), checked
// before LibTorch loads it: torch::jit::load reads the members without
// checking their CRCs, so a file with flipped weight bytes would load and
// give wrong features. No torch here.

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "prh/models/model.hpp"

namespace prh::models {

namespace {

std::uint32_t u16(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8);
}
std::uint32_t u32(const unsigned char* p) {
  return u16(p) | (u16(p + 2) << 16);
}

class Reader {
 public:
  explicit Reader(const std::string& path) : in_(path, std::ios::binary) {
    in_.seekg(0, std::ios::end);
    size_ = in_ ? static_cast<std::uint64_t>(in_.tellg()) : 0;
  }
  std::uint64_t size() const { return size_; }
  bool read(std::uint64_t at, std::size_t n, std::vector<unsigned char>& out) {
    if (at > size_ || n > size_ - at) return false;
    out.resize(n);
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(at));
    in_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
    return static_cast<std::size_t>(in_.gcount()) == n;
  }
  // CRC-32 of n bytes from `at`, stored (method 0) or deflated (method 8)
  // with `raw` compressed bytes; false when they cannot be read or inflated.
  bool crc(std::uint64_t at, std::uint64_t raw, int method, std::uint32_t& out) {
    if (at > size_ || raw > size_ - at) return false;
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(at));
    std::vector<unsigned char> buf(1 << 20), plain(1 << 20);
    uLong c = crc32(0L, Z_NULL, 0);
    z_stream z{};
    if (method == 8 && inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;
    bool ok = true;
    std::uint64_t left = raw;
    int zrc = Z_OK;
    while (ok && left > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      in_.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
      if (static_cast<std::size_t>(in_.gcount()) != n) ok = false;
      left -= n;
      if (!ok) break;
      if (method == 0) {
        c = crc32(c, buf.data(), static_cast<uInt>(n));
        continue;
      }
      z.next_in = buf.data();
      z.avail_in = static_cast<uInt>(n);
      while (z.avail_in > 0 && zrc != Z_STREAM_END) {
        z.next_out = plain.data();
        z.avail_out = static_cast<uInt>(plain.size());
        zrc = inflate(&z, Z_NO_FLUSH);
        if (zrc != Z_OK && zrc != Z_STREAM_END) {
          ok = false;
          break;
        }
        c = crc32(c, plain.data(), static_cast<uInt>(plain.size() - z.avail_out));
      }
    }
    if (method == 8) inflateEnd(&z);
    out = static_cast<std::uint32_t>(c);
    return ok;
  }

 private:
  std::ifstream in_;
  std::uint64_t size_ = 0;
};

}  // namespace

std::string zip_integrity_problem(const std::string& path) {
  Reader r(path);
  const std::uint64_t size = r.size();
  // End of central directory: 22 bytes plus a comment of up to 65535.
  const std::uint64_t tail = std::min<std::uint64_t>(size, 22 + 65535);
  std::vector<unsigned char> t;
  if (size < 22 || !r.read(size - tail, static_cast<std::size_t>(tail), t))
    return "not a zip archive (too short)";
  std::size_t eocd = std::string::npos;
  for (std::size_t i = t.size() - 22 + 1; i-- > 0;)
    if (u32(&t[i]) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) return "not a zip archive (no end of central directory)";
  const std::uint32_t entries = u16(&t[eocd + 10]);
  const std::uint64_t cd_size = u32(&t[eocd + 12]), cd_offset = u32(&t[eocd + 16]);
  // Zip64 archives (over 4 GiB or 65535 members) are left to LibTorch.
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) return "";
  std::vector<unsigned char> cd;
  if (!r.read(cd_offset, static_cast<std::size_t>(cd_size), cd))
    return "the central directory lies beyond the end of the file (truncated?)";
  std::size_t p = 0;
  std::vector<unsigned char> local;
  for (std::uint32_t e = 0; e < entries; ++e) {
    if (p + 46 > cd.size() || u32(&cd[p]) != 0x02014b50)
      return fmt::format("the central directory is damaged at member {}", e);
    const int method = static_cast<int>(u16(&cd[p + 10]));
    const std::uint32_t want = u32(&cd[p + 16]);
    const std::uint64_t csize = u32(&cd[p + 20]), usize = u32(&cd[p + 24]);
    const std::size_t name_len = u16(&cd[p + 28]), extra_len = u16(&cd[p + 30]),
                      comment_len = u16(&cd[p + 32]);
    const std::uint64_t offset = u32(&cd[p + 42]);
    if (p + 46 + name_len > cd.size())
      return fmt::format("the central directory is damaged at member {}", e);
    const std::string name(reinterpret_cast<const char*>(&cd[p + 46]), name_len);
    p += 46 + name_len + extra_len + comment_len;
    if (csize == 0xFFFFFFFF || usize == 0xFFFFFFFF || offset == 0xFFFFFFFF) continue;  // zip64
    if (method != 0 && method != 8) continue;
    if (!r.read(offset, 30, local) || u32(local.data()) != 0x04034b50)
      return fmt::format("member '{}': its local header is damaged", name);
    const std::uint64_t data = offset + 30 + u16(&local[26]) + u16(&local[28]);
    std::uint32_t got = 0;
    if (!r.crc(data, csize, method, got))
      return fmt::format("member '{}': its data cannot be read (truncated or damaged)", name);
    if (got != want)
      return fmt::format("member '{}': CRC-32 {:08x}, the archive records {:08x} (damaged bytes)",
                         name, got, want);
  }
  return "";
}

}  // namespace prh::models
