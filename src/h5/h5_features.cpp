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
  std::vector<hsize> start(dims.size(), 0), count = dims;
  start[0] = row0;
  count[0] = rows;
  try {
    read_box(dataset.id(), native_float(), start, count, out.data());
  } catch (const std::exception& e) {
    throw InputError(
        fmt::format("{}: cannot read rows [{}, {}): {}", what, row0, row0 + rows, e.what()));
  }
}

}  // namespace prh::h5
