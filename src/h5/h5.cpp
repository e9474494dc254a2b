#include "h5.hpp"

#include <algorithm>
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
  return out.empty() ? "unknown HDF5 error" : out;
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

std::string type_name(hid_t type) {
  const std::size_t bits = 8 * H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return fmt::format("{}int{}", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
    case H5T_FLOAT:
      return fmt::format("float{}", bits);
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return fmt::format("bitfield{}", bits);
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    case H5T_TIME:
      return "time";
    default:
      return "unknown";
  }
}

std::string dataset_type_name(const Handle& dataset) {
  Handle type(H5Dget_type(dataset.id()), H5Tclose);
  PRH_ASSERT(type, "H5Dget_type failed: {}", error_stack());
  return type_name(type.id());
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

namespace prh::h5 {

namespace {
[[noreturn]] void fail(const std::string& what) {
  throw InternalError(fmt::format("HDF5: {}: {}", what, error_stack()));
}
hid_t checked(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}
void checked(herr_t rc, const char* what, const std::string& name) {
  if (rc < 0) fail(fmt::format("{} '{}'", what, name));
}
}  // namespace

#ifdef H5_HAVE_PARALLEL
Handle fapl_mpio(MPI_Comm comm) {
  Handle p(checked(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  checked(H5Pset_fapl_mpio(p.id(), comm, MPI_INFO_NULL), "H5Pset_fapl_mpio", "");
  return p;
}

Handle dxpl_independent() {
  Handle p(checked(H5Pcreate(H5P_DATASET_XFER), "H5Pcreate"), H5Pclose);
  checked(H5Pset_dxpl_mpio(p.id(), H5FD_MPIO_INDEPENDENT), "H5Pset_dxpl_mpio", "");
  return p;
}
#else
// A serial HDF5 has no MPI-IO driver: the store never asks for it there
// (store::kParallelHdf5).
Handle fapl_mpio(MPI_Comm) {
  throw InternalError("HDF5: the MPI-IO driver was asked for, but this prh uses a serial HDF5");
}

Handle dxpl_independent() {
  throw InternalError("HDF5: an MPI-IO transfer was asked for, but this prh uses a serial HDF5");
}
#endif

Handle create_group(hid_t parent, const std::string& name) {
  return Handle(checked(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                        "create group " + name),
                H5Gclose);
}

Handle open_group(hid_t parent, const std::string& name) {
  return Handle(checked(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), "open group " + name),
                H5Gclose);
}

bool exists(hid_t parent, const std::string& path) {
  // Check link by link: H5Lexists fails on a missing intermediate group.
  std::size_t pos = 0;
  while (true) {
    const auto next = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, next);
    if (!prefix.empty() && prefix != "/" && H5Lexists(parent, prefix.c_str(), H5P_DEFAULT) <= 0)
      return false;
    if (next == std::string::npos) return true;
    pos = next;
  }
}

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  // Variable-length UTF-8: h5py reads it as str.
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id(), H5T_VARIABLE);
  H5Tset_cset(type.id(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(
      checked(H5Acreate2(obj, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
              "create attribute " + name),
      H5Aclose);
  const char* p = value.c_str();
  checked(H5Awrite(attr.id(), type.id(), &p), "write attribute", name);
}

void write_attr(hid_t obj, const std::string& name, std::int64_t value) {
  write_attr(obj, name, std::vector<std::int64_t>{value});
}

void write_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& value) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  const hsize_t n = value.size();
  Handle space(n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle attr(
      checked(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT),
              "create attribute " + name),
      H5Aclose);
  checked(H5Awrite(attr.id(), H5T_NATIVE_INT64, value.data()), "write attribute", name);
}

std::int64_t read_attr_int(hid_t obj, const std::string& name) {
  const hid_t a = H5Aopen(obj, name.c_str(), H5P_DEFAULT);
  PRH_CHECK_INPUT(a >= 0, "attribute '{}' is missing: {}", name, error_stack());
  Handle attr(a, H5Aclose);
  std::int64_t v = 0;
  PRH_CHECK_INPUT(H5Aread(attr.id(), H5T_NATIVE_INT64, &v) >= 0,
                  "attribute '{}' is not a number: {}", name, error_stack());
  return v;
}

bool has_attr(hid_t obj, const std::string& name) {
  return H5Aexists(obj, name.c_str()) > 0;
}

std::string read_attr_string(hid_t obj, const std::string& name) {
  Handle attr(checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "open attribute " + name), H5Aclose);
  Handle ftype(H5Aget_type(attr.id()), H5Tclose);
  if (H5Tis_variable_str(ftype.id()) > 0) {
    Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.id(), H5T_VARIABLE);
    H5Tset_cset(mtype.id(), H5Tget_cset(ftype.id()));
    char* p = nullptr;
    checked(H5Aread(attr.id(), mtype.id(), &p), "read attribute", name);
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const std::size_t size = H5Tget_size(ftype.id());
  std::string buf(size, '\0');
  checked(H5Aread(attr.id(), ftype.id(), buf.data()), "read attribute", name);
  return buf.substr(0, buf.find('\0'));
}

Handle create_dataset(hid_t parent, const std::string& name, hid_t type,
                      const std::vector<hsize_t>& dims, bool fill_zero) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_layout(dcpl.id(), H5D_CONTIGUOUS);
  H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl.id(), fill_zero ? H5D_FILL_TIME_ALLOC : H5D_FILL_TIME_NEVER);
  return Handle(checked(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                   H5P_DEFAULT),
                        "create dataset " + name),
                H5Dclose);
}

Handle open_dataset(hid_t parent, const std::string& name) {
  return Handle(checked(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), "open dataset " + name),
                H5Dclose);
}

Handle float16_type() {
  Handle t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  H5Tset_fields(t.id(), 15, 10, 5, 0, 10);
  H5Tset_size(t.id(), 2);
  H5Tset_ebias(t.id(), 15);
  return t;
}

namespace {
Handle box_space(hid_t dataset, const std::vector<hsize_t>& start,
                 const std::vector<hsize_t>& count) {
  Handle fspace(H5Dget_space(dataset), H5Sclose);
  if (H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                          nullptr) < 0)
    fail("select hyperslab");
  return fspace;
}
}  // namespace

void write_box(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
               const std::vector<hsize_t>& count, const void* buf, hid_t dxpl) {
  Handle fspace = box_space(dataset, start, count);
  Handle mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  if (H5Dwrite(dataset, mem_type, mspace.id(), fspace.id(), dxpl, buf) < 0) fail("write");
}

void read_box(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
              const std::vector<hsize_t>& count, void* buf, hid_t dxpl) {
  Handle fspace = box_space(dataset, start, count);
  Handle mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  if (H5Dread(dataset, mem_type, mspace.id(), fspace.id(), dxpl, buf) < 0) fail("read");
}

}  // namespace prh::h5

namespace prh::h5 {

void write_attr(hid_t obj, const std::string& name, double value) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(
      checked(H5Acreate2(obj, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT),
              "create attribute " + name),
      H5Aclose);
  checked(H5Awrite(attr.id(), H5T_NATIVE_DOUBLE, &value), "write attribute", name);
}

Handle create_dataset_filled(hid_t parent, const std::string& name, hid_t type,
                             const std::vector<hsize_t>& dims, hid_t mem_type, const void* fill) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_layout(dcpl.id(), H5D_CONTIGUOUS);
  H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_ALLOC);
  checked(H5Pset_fill_value(dcpl.id(), mem_type, fill), "set fill value", name);
  return Handle(checked(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                   H5P_DEFAULT),
                        "create dataset " + name),
                H5Dclose);
}

void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  Handle str(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(str.id(), width);
  H5Tset_strpad(str.id(), H5T_STR_NULLPAD);
  H5Tset_cset(str.id(), H5T_CSET_UTF8);
  const hsize_t n = values.size();
  Handle ds = create_dataset(parent, name, str.id(), {n}, true);
  if (n == 0) return;
  std::string buf(width * n, '\0');
  for (std::size_t i = 0; i < n; ++i) buf.replace(i * width, values[i].size(), values[i]);
  write_box(ds.id(), str.id(), {0}, {n}, buf.data());
}

std::vector<std::string> read_strings(hid_t parent, const std::string& name) {
  Handle ds = open_dataset(parent, name);
  const auto shape = dataset_shape(ds);
  const std::size_t n = shape.empty() ? 0 : shape[0];
  Handle ftype(H5Dget_type(ds.id()), H5Tclose);
  std::vector<std::string> out;
  if (n == 0) return out;
  if (H5Tis_variable_str(ftype.id()) > 0) {
    Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.id(), H5T_VARIABLE);
    H5Tset_cset(mtype.id(), H5Tget_cset(ftype.id()));
    std::vector<char*> p(n, nullptr);
    read_box(ds.id(), mtype.id(), {0}, {n}, p.data());
    for (auto* s : p) {
      out.emplace_back(s ? s : "");
      H5free_memory(s);
    }
    return out;
  }
  const std::size_t width = H5Tget_size(ftype.id());
  std::string buf(width * n, '\0');
  read_box(ds.id(), ftype.id(), {0}, {n}, buf.data());
  for (std::size_t i = 0; i < n; ++i) {
    std::string s = buf.substr(i * width, width);
    out.push_back(s.substr(0, s.find('\0')));
  }
  return out;
}

namespace {
// The number of elements of a dataset of shape `dims`; an InternalError
// naming the dataset when `given` values do not fill it exactly.
void check_count(const std::string& name, const std::vector<hsize_t>& dims, std::size_t given) {
  std::size_t n = 1;
  for (auto d : dims) n *= static_cast<std::size_t>(d);
  PRH_ASSERT(given == n, "HDF5 dataset '{}': {} values for a shape of {} elements", name, given, n);
}
}  // namespace

void write_doubles(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                   const std::vector<double>& values) {
  check_count(name, dims, values.size());
  Handle ds = create_dataset(parent, name, H5T_IEEE_F64LE, dims, false);
  if (!values.empty())
    write_box(ds.id(), H5T_NATIVE_DOUBLE, std::vector<hsize_t>(dims.size(), 0), dims,
              values.data());
}

void write_int64s(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                  const std::vector<std::int64_t>& values) {
  check_count(name, dims, values.size());
  Handle ds = create_dataset(parent, name, H5T_STD_I64LE, dims, false);
  if (!values.empty())
    write_box(ds.id(), H5T_NATIVE_INT64, std::vector<hsize_t>(dims.size(), 0), dims, values.data());
}

void remove(hid_t parent, const std::string& name) {
  if (exists(parent, name)) checked(H5Ldelete(parent, name.c_str(), H5P_DEFAULT), "delete", name);
}

}  // namespace prh::h5
