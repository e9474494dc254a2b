// The .npy parser of imported features (src/store/npy.cpp): valid headers of
// every version, and hostile ones refused with an InputError (never a crash
// or an allocation the file does not back).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "prh/core/error.hpp"
#include "prh/store/npy.hpp"

namespace {

using prh::InputError;
using prh::store::parse_npy_header;

// A version-1 file: magic, version, header length, the dict, then `data` bytes.
std::string npy(const std::string& dict, std::size_t data_bytes, int major = 1) {
  std::string h = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const auto n = static_cast<std::uint32_t>(h.size());
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major > 1) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  return out + h + std::string(data_bytes, '\0');
}

prh::store::NpyHeader parse(const std::string& bytes) {
  return parse_npy_header(bytes, bytes.size(), "x.npy");
}

TEST(Npy, ValidHeaders) {
  auto h = parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 48));
  EXPECT_EQ(h.shape, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(h.item_size, 4);
  EXPECT_FALSE(h.big_endian);
  EXPECT_FALSE(h.fortran_order);
  EXPECT_EQ(h.data_offset % 64, 0u);
  h = parse(npy("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3, 5)}", 240, 2));
  EXPECT_EQ(h.item_size, 8);
  EXPECT_TRUE(h.big_endian);
  EXPECT_TRUE(h.fortran_order);
  h = parse(npy("{\"shape\": (7,), \"descr\": \"<f2\", \"fortran_order\": False}", 14, 3));
  EXPECT_EQ(h.shape, (std::vector<std::int64_t>{7}));
  EXPECT_EQ(h.item_size, 2);
}

TEST(Npy, HostileHeaders) {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
  // Not .npy, other versions, a header longer than the file.
  EXPECT_THROW(parse("hello"), InputError);
  EXPECT_THROW(parse("\x93NUMPX" + npy(ok, 48).substr(6)), InputError);
  std::string v9 = npy(ok, 48);
  v9[6] = 9;
  EXPECT_THROW(parse(v9), InputError);
  std::string len = npy(ok, 48);
  len[8] = '\xff';
  len[9] = '\xff';
  EXPECT_THROW(parse(len), InputError);
  // Sizes: a huge shape, a truncated file, extra bytes, an overflowing product.
  EXPECT_THROW(
      parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (400000000000, 4)}", 48)),
      InputError);
  EXPECT_THROW(parse(npy(ok, 47)), InputError);
  EXPECT_THROW(parse(npy(ok, 49)), InputError);
  EXPECT_THROW(parse(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (999999999999999, "
                         "999999999999999, 999999999999999)}",
                         48)),
               InputError);
  // Types and syntax.
  for (const char* d : {"<i4", "|u1", "<c8", "O", "<f16", "f4", "<f3"})
    EXPECT_THROW(
        parse(npy(std::string("{'descr': '") + d + "', 'fortran_order': False, 'shape': (3, 4)}",
                  48)),
        InputError)
        << d;
  for (const char* dict :
       {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3, 4)}",
        "{'descr': '<f4', 'shape': (3, 4)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)} junk",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)",
        "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
        "{'descr': '<f4\\x', 'fortran_order': False, 'shape': (3, 4)}", ""})
    EXPECT_THROW(parse(npy(dict, 48)), InputError) << dict;
}

TEST(Npy, ReadRowsBothOrdersAndTypes) {
  // [3, 2] float64, big-endian, Fortran order: column-major, bytes swapped.
  const double v[3][2] = {{1.5, -2}, {3.25, 4}, {5, 1e300}};
  std::string data;
  for (int c = 0; c < 2; ++c)
    for (int r = 0; r < 3; ++r) {
      char b[8];
      std::memcpy(b, &v[r][c], 8);
      for (int k = 7; k >= 0; --k) data += b[k];
    }
  std::string bytes = npy("{'descr': '>f8', 'fortran_order': True, 'shape': (3, 2), }", 0) + data;
  const std::string path = ::testing::TempDir() + "/prh_test_npy.npy";
  std::ofstream(path, std::ios::binary) << bytes;
  const auto h = prh::store::read_npy_header(path);
  std::vector<float> out;
  prh::store::read_npy_rows(path, h, 1, 2, out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], 3.25f);
  EXPECT_EQ(out[1], 4.0f);
  EXPECT_EQ(out[2], 5.0f);
  EXPECT_TRUE(std::isinf(out[3]));
  EXPECT_THROW(prh::store::read_npy_rows(path, h, 2, 2, out), InputError);
  // float16, little-endian, C order: 1, -2, 0.5, 65504 (max), a subnormal, inf.
  const std::uint16_t half[6] = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00};
  std::string hb(reinterpret_cast<const char*>(half), 12);
  std::ofstream(path, std::ios::binary)
      << npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", 0) + hb;
  prh::store::read_npy_rows(path, prh::store::read_npy_header(path), 0, 2, out);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 0.5f);
  EXPECT_EQ(out[3], 65504.0f);
  EXPECT_EQ(out[4], 5.960464477539063e-08f);
  EXPECT_TRUE(std::isinf(out[5]));
  std::remove(path.c_str());
}

}  // namespace
