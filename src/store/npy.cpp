#include "prh/store/npy.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "prh/core/error.hpp"

namespace prh::store {

namespace {

constexpr std::uint64_t kMaxHeader = 1u << 20;  // numpy writes a few hundred bytes

bool host_big_endian() {
  const std::uint16_t one = 1;
  unsigned char b[2];
  std::memcpy(b, &one, 2);
  return b[0] == 0;
}

// The header's Python dict literal: {'descr': '<f4', 'fortran_order': False,
// 'shape': (3, 4), } with nothing but whitespace after it.
class DictParser {
 public:
  DictParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  void parse(NpyHeader& h) {
    bool descr = false, order = false, shape = false;
    ws();
    expect('{');
    for (;;) {
      ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      const std::string key = string();
      ws();
      expect(':');
      ws();
      if (key == "descr") {
        PRH_CHECK_INPUT(!descr, "{}: .npy header gives 'descr' twice", path_);
        descr = true;
        h.descr = string();
      } else if (key == "fortran_order") {
        PRH_CHECK_INPUT(!order, "{}: .npy header gives 'fortran_order' twice", path_);
        order = true;
        h.fortran_order = boolean();
      } else if (key == "shape") {
        PRH_CHECK_INPUT(!shape, "{}: .npy header gives 'shape' twice", path_);
        shape = true;
        h.shape = tuple();
      } else {
        fail(fmt::format("unknown key '{}'", key));
      }
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      ws();
      expect('}');
      break;
    }
    ws();
    if (i_ != s_.size()) fail("text after the header's dictionary");
    if (!descr || !order || !shape) fail("'descr', 'fortran_order' and 'shape' are required");
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(
        fmt::format("{}: not a valid .npy header ({}, at byte {} of the header)", path_, why, i_));
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++i_;
  }
  std::string string() {
    const char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != q) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '\\' || c < 0x20 || c > 0x7e) fail("unexpected character in a string");
      out += s_[i_++];
      if (out.size() > 64) fail("string too long");
    }
    expect(q);
    return out;
  }
  bool boolean() {
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  std::vector<std::int64_t> tuple() {
    expect('(');
    std::vector<std::int64_t> out;
    for (;;) {
      ws();
      if (peek() == ')') {
        ++i_;
        break;
      }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a dimension");
      std::int64_t v = 0;
      int digits = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (++digits > 15) fail("dimension too large");
        v = v * 10 + (s_[i_++] - '0');
      }
      out.push_back(v);
      if (out.size() > 8) fail("more than 8 dimensions");
      ws();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(')');
      break;
    }
    return out;
  }

  const std::string& s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

std::uint64_t file_size_of(const std::string& path) {
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(path, ec);
  PRH_CHECK_INPUT(regular && !ec, "{}: no such file (or not a regular file)", path);
  const auto n = std::filesystem::file_size(path, ec);
  PRH_CHECK_INPUT(!ec, "{}: cannot read its size: {}", path, ec.message());
  return n;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);  // inf or nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    exp = 113;
    while (!(man & 0x400u)) {
      man <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((man & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// n values of the file's type at `in` as float32 at `out`.
void convert(const unsigned char* in, std::size_t n, const NpyHeader& h, float* out) {
  const bool swap = h.big_endian != host_big_endian();
  unsigned char b[8];
  for (std::size_t k = 0; k < n; ++k) {
    const unsigned char* p = in + k * static_cast<std::size_t>(h.item_size);
    if (swap)
      for (int j = 0; j < h.item_size; ++j) b[j] = p[h.item_size - 1 - j];
    else
      std::memcpy(b, p, static_cast<std::size_t>(h.item_size));
    if (h.item_size == 4) {
      std::memcpy(out + k, b, 4);
    } else if (h.item_size == 8) {
      double d;
      std::memcpy(&d, b, 8);
      out[k] = static_cast<float>(d);
    } else {
      std::uint16_t u;
      std::memcpy(&u, b, 2);
      out[k] = half_to_float(u);
    }
  }
}

}  // namespace

NpyHeader parse_npy_header(const std::string& bytes, std::uint64_t file_size,
                           const std::string& path) {
  NpyHeader h;
  PRH_CHECK_INPUT(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0,
                  "{}: not a NumPy .npy file (no \\x93NUMPY magic)", path);
  const auto major = static_cast<unsigned char>(bytes[6]);
  PRH_CHECK_INPUT(major >= 1 && major <= 3, "{}: .npy format version {}.{} is not supported", path,
                  major, static_cast<unsigned char>(bytes[7]));
  std::uint64_t len = 0, prefix = 0;
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (major == 1) {
    len = static_cast<std::uint64_t>(u[8]) | (static_cast<std::uint64_t>(u[9]) << 8);
    prefix = 10;
  } else {
    PRH_CHECK_INPUT(bytes.size() >= 12, "{}: .npy header truncated", path);
    len = static_cast<std::uint64_t>(u[8]) | (static_cast<std::uint64_t>(u[9]) << 8) |
          (static_cast<std::uint64_t>(u[10]) << 16) | (static_cast<std::uint64_t>(u[11]) << 24);
    prefix = 12;
  }
  PRH_CHECK_INPUT(len <= kMaxHeader && prefix + len <= file_size && prefix + len <= bytes.size(),
                  "{}: .npy header of {} bytes does not fit the file ({} bytes)", path, len,
                  file_size);
  DictParser(bytes.substr(prefix, len), path).parse(h);
  h.data_offset = prefix + len;
  const std::string& d = h.descr;
  PRH_CHECK_INPUT(d.size() == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=') && d[1] == 'f' &&
                      (d[2] == '2' || d[2] == '4' || d[2] == '8'),
                  "{}: .npy dtype '{}' is not supported: features must be float16, float32 or "
                  "float64 ('<f4', '>f8', ...)",
                  path, d);
  h.item_size = d[2] - '0';
  h.big_endian = d[0] == '>' || (d[0] == '=' && host_big_endian());
  PRH_CHECK_INPUT(!h.shape.empty(), "{}: .npy array is a scalar (shape ())", path);
  // The data must fill the rest of the file exactly: no size is believed
  // that the file does not back.
  std::uint64_t count = 1;
  for (auto x : h.shape) {
    if (x == 0) {
      count = 0;
      break;
    }
    PRH_CHECK_INPUT(count <= file_size / static_cast<std::uint64_t>(x),
                    "{}: .npy shape is larger than the file ({} bytes)", path, file_size);
    count *= static_cast<std::uint64_t>(x);
  }
  const std::uint64_t need = count * static_cast<std::uint64_t>(h.item_size);
  PRH_CHECK_INPUT(count <= file_size && need == file_size - h.data_offset,
                  "{}: .npy shape and dtype need {} bytes of data, the file has {} after its "
                  "header (truncated or damaged)",
                  path, count <= file_size ? need : file_size + 1, file_size - h.data_offset);
  return h;
}

NpyHeader read_npy_header(const std::string& path) {
  const auto size = file_size_of(path);
  std::ifstream in(path, std::ios::binary);
  PRH_CHECK_INPUT(in.good(), "{}: cannot open", path);
  std::string bytes(static_cast<std::size_t>(std::min<std::uint64_t>(size, kMaxHeader + 12)), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return parse_npy_header(bytes, size, path);
}

void read_npy_rows(const std::string& path, const NpyHeader& h, std::int64_t row0,
                   std::int64_t rows, std::vector<float>& out) {
  PRH_CHECK_INPUT(!h.shape.empty() && row0 >= 0 && rows >= 0 && row0 + rows <= h.shape[0],
                  "{}: rows [{}, {}) are beyond the array's rows", path, row0, row0 + rows);
  std::size_t per_row = 1;
  for (std::size_t k = 1; k < h.shape.size(); ++k) per_row *= static_cast<std::size_t>(h.shape[k]);
  out.resize(static_cast<std::size_t>(rows) * per_row);
  if (out.empty()) return;
  std::ifstream in(path, std::ios::binary);
  PRH_CHECK_INPUT(in.good(), "{}: cannot open", path);
  const auto isz = static_cast<std::size_t>(h.item_size);
  std::vector<unsigned char> buf;
  auto read_at = [&](std::uint64_t offset, std::size_t n) {
    buf.resize(n * isz);
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    PRH_CHECK_INPUT(in.good() && static_cast<std::size_t>(in.gcount()) == buf.size(),
                    "{}: cannot read {} bytes at offset {} (file shorter than its header says?)",
                    path, buf.size(), offset);
  };
  if (!h.fortran_order || h.shape.size() == 1) {
    read_at(h.data_offset + static_cast<std::uint64_t>(row0) * per_row * isz,
            static_cast<std::size_t>(rows) * per_row);
    convert(buf.data(), out.size(), h, out.data());
    return;
  }
  // Fortran order: element (i, j1, .., jk) at i + N * (j1 + d1 * (j2 + ...)).
  // One read of the rows per column.
  const auto n = static_cast<std::uint64_t>(h.shape[0]);
  std::vector<float> col(static_cast<std::size_t>(rows));
  for (std::size_t c = 0; c < per_row; ++c) {
    // c is the C-order index over shape[1:]; its Fortran-order column.
    std::size_t rest = c, fcol = 0, stride = 1;
    std::vector<std::size_t> idx(h.shape.size() - 1);
    for (std::size_t k = h.shape.size() - 1; k >= 1; --k) {
      idx[k - 1] = rest % static_cast<std::size_t>(h.shape[k]);
      rest /= static_cast<std::size_t>(h.shape[k]);
    }
    for (std::size_t k = 1; k < h.shape.size(); ++k) {
      fcol += idx[k - 1] * stride;
      stride *= static_cast<std::size_t>(h.shape[k]);
    }
    read_at(h.data_offset + (fcol * n + static_cast<std::uint64_t>(row0)) * isz,
            static_cast<std::size_t>(rows));
    convert(buf.data(), col.size(), h, col.data());
    for (std::int64_t r = 0; r < rows; ++r)
      out[static_cast<std::size_t>(r) * per_row + c] = col[static_cast<std::size_t>(r)];
  }
}

}  // namespace prh::store
