#pragma once
// Reading imported feature arrays (docs/config.md, "Imported features"):
// a block of rows of a floating-point dataset of any float type, converted
// to float32 by HDF5. Part of the h5 wrapper (library prh_h5).

#include <cstdint>
#include <string>
#include <vector>

#include "h5.hpp"

namespace prh::h5 {

// Rows [row0, row0 + rows) of `dataset` (rank >= 1; every other dimension
// whole), converted to native float (float16, float32, float64 of either
// byte order: HDF5's conversion; float32 is copied bit for bit) into `out`,
// resized to rows x the product of the other dimensions. InputError naming
// `what` when the dataset is not floating point or the read fails.
void read_rows_as_float(const Handle& dataset, std::uint64_t row0, std::uint64_t rows,
                        std::vector<float>& out, const std::string& what);

}  // namespace prh::h5
