#include "prh/store/h5.hpp"

#include <filesystem>

#include "prh/core/error.hpp"

namespace prh::h5 {

void quiet() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string error_stack() {
  std::string out;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto* s = static_cast<std::string*>(data);
        if (e->desc && *e->desc) *s += (s->empty() ? "" : "; ") + std::string(e->desc);
        return 0;
      },
      &out);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

Handle open_file_readonly(const std::string& path) {
  quiet();
  PRH_CHECK_INPUT(std::filesystem::exists(path), "{}: no such file", path);
  const htri_t is_h5 = H5Fis_hdf5(path.c_str());
  PRH_CHECK_INPUT(is_h5 > 0, "{}: not an HDF5 file", path);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) throw InputError(fmt::format("{}: cannot open HDF5 file: {}", path, error_stack()));
  return Handle(f, H5Fclose);
}

Handle open_dataset(const Handle& file, const std::string& file_path, const std::string& dataset) {
  quiet();
  // Check the path link by link so that a missing group gives a clean message.
  std::string prefix;
  std::size_t pos = 0;
  while (pos < dataset.size()) {
    auto next = dataset.find('/', pos + 1);
    prefix = dataset.substr(0, next);
    if (!prefix.empty() && prefix != "/") {
      const htri_t exists = H5Lexists(file.id(), prefix.c_str(), H5P_DEFAULT);
      PRH_CHECK_INPUT(exists > 0, "{}: no dataset '{}' (no object '{}')", file_path, dataset,
                      prefix);
    }
    if (next == std::string::npos) break;
    pos = next;
  }
  {
    const hid_t obj = H5Oopen(file.id(), dataset.c_str(), H5P_DEFAULT);
    PRH_CHECK_INPUT(obj >= 0, "{}: cannot open '{}': {}", file_path, dataset, error_stack());
    Handle owned(obj, H5Oclose);
    PRH_CHECK_INPUT(H5Iget_type(obj) == H5I_DATASET, "{}: '{}' is not a dataset (it is a group)",
                    file_path, dataset);
  }
  const hid_t d = H5Dopen2(file.id(), dataset.c_str(), H5P_DEFAULT);
  if (d < 0)
    throw InputError(
        fmt::format("{}: cannot open dataset '{}': {}", file_path, dataset, error_stack()));
  return Handle(d, H5Dclose);
}

std::vector<hsize_t> dataset_shape(const Handle& dataset) {
  Handle space(H5Dget_space(dataset.id()), H5Sclose);
  PRH_ASSERT(space, "H5Dget_space failed: {}", error_stack());
  const int rank = H5Sget_simple_extent_ndims(space.id());
  PRH_ASSERT(rank >= 0, "H5Sget_simple_extent_ndims failed: {}", error_stack());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  return dims;
}

bool dataset_is_float(const Handle& dataset) {
  Handle type(H5Dget_type(dataset.id()), H5Tclose);
  return H5Tget_class(type.id()) == H5T_FLOAT;
}

std::string dataset_type_name(const Handle& dataset) {
  Handle type(H5Dget_type(dataset.id()), H5Tclose);
  const auto size = H5Tget_size(type.id()) * 8;
  switch (H5Tget_class(type.id())) {
    case H5T_FLOAT:
      return fmt::format("float{}", size);
    case H5T_INTEGER:
      return fmt::format("{}int{}", H5Tget_sign(type.id()) == H5T_SGN_NONE ? "u" : "", size);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    default:
      return "non-numeric";
  }
}

void read_all_float(const Handle& dataset, std::vector<float>& out, const std::string& what) {
  std::size_t total = 1;
  for (auto d : dataset_shape(dataset)) total *= d;
  out.resize(total);
  if (total == 0) return;
  if (H5Dread(dataset.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw InputError(fmt::format("{}: cannot read: {}", what, error_stack()));
}

}  // namespace prh::h5
