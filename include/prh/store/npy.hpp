#pragma once
// NumPy .npy files of floating-point arrays (format versions 1, 2 and 3),
// for imported features (docs/config.md, "Imported features"). prh's own
// parser: every header field is checked, and the array's size against the
// file's, so that a damaged or hostile file is an InputError naming it,
// never a crash or a huge allocation.

#include <cstdint>
#include <string>
#include <vector>

namespace prh::store {

struct NpyHeader {
  std::vector<std::int64_t> shape;  // rank 1..8, as written
  int item_size = 4;                // bytes: 2 (float16), 4 (float32), 8 (float64)
  bool big_endian = false;
  bool fortran_order = false;
  std::uint64_t data_offset = 0;  // where the array's bytes begin
  std::string descr;              // e.g. "<f4"
};

// Reads and checks FILE's header. InputError naming the file unless it is a
// .npy file of a float16/32/64 array (either byte order, C or Fortran
// order) whose data fill the rest of the file exactly.
NpyHeader read_npy_header(const std::string& path);

// Parses a header from the file's first bytes (`file_size`: the file's
// size); what read_npy_header does once it has read them (and what the unit
// tests and fuzzers drive).
NpyHeader parse_npy_header(const std::string& bytes, std::uint64_t file_size,
                           const std::string& path);

// Rows [row0, row0 + rows) of the array as float32, in C order: rows x
// (product of shape[1:]) floats into `out` (resized). float32 of the host's
// byte order is copied bit for bit. InputError naming the file if it cannot
// be read (or became shorter).
void read_npy_rows(const std::string& path, const NpyHeader& h, std::int64_t row0,
                   std::int64_t rows, std::vector<float>& out);

}  // namespace prh::store
