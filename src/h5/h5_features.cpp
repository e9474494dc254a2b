#include "h5_features.hpp"

#include <fmt/format.h>

#include "prh/core/error.hpp"

namespace prh::h5 {

void read_rows_as_float(const Handle& dataset, std::uint64_t row0, std::uint64_t rows,
                        std::vector<float>& out, const std::string& what) {
  PRH_CHECK_INPUT(dataset_is_float(dataset), "{}: features must be floating point, got {}", what,
                  dataset_type_name(dataset));
  const auto dims = dataset_shape(dataset);
  PRH_CHECK_INPUT(!dims.empty() && row0 + rows <= dims[0],
                  "{}: rows [{}, {}) are beyond the dataset's {} rows", what, row0, row0 + rows,
                  dims.empty() ? 0 : dims[0]);
  std::size_t per_row = 1;
  for (std::size_t k = 1; k < dims.size(); ++k) per_row *= static_cast<std::size_t>(dims[k]);
  out.resize(static_cast<std::size_t>(rows) * per_row);
  if (out.empty()) return;
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = row0;
  count[0] = rows;
  Handle file_space(H5Dget_space(dataset.id()), H5Sclose);
  Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr),
                   H5Sclose);
  if (!file_space || !mem_space ||
      H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                          nullptr) < 0 ||
      H5Dread(dataset.id(), H5T_NATIVE_FLOAT, mem_space.id(), file_space.id(), H5P_DEFAULT,
              out.data()) < 0)
    throw InputError(
        fmt::format("{}: cannot read rows [{}, {}): {}", what, row0, row0 + rows, error_stack()));
}

}  // namespace prh::h5
