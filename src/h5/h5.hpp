#pragma once
// Thin RAII over the HDF5 C API: every handle is an object that closes itself,
// every call is checked, and a failure becomes prh::InputError (bad file or
// dataset) or prh::InternalError carrying HDF5's own error text. The one
// HDF5 wrapper of prh (library prh_h5, an internal header): the store and
// the data layer's HDF5 image reader both use it.

#include <hdf5.h>
// The C API of MPI only (a parallel hdf5.h does the same before it includes
// mpi.h; a serial one does not include it at all): no C++ bindings to link.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <cstdint>

#include <string>
#include <utility>
#include <vector>

namespace prh::h5 {

// Silences HDF5's automatic error printing (we report errors ourselves).
void quiet();

// HDF5's current error stack as one line ("" when empty).
std::string error_stack();

// An owned hid_t, released with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      close_ = o.close_;
    }
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t id() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// Opens an existing file read-only; InputError naming the path if it cannot.
Handle open_file_readonly(const std::string& path);

// Opens a dataset by path inside an open file; InputError naming both.
Handle open_dataset(const Handle& file, const std::string& file_path, const std::string& dataset);

// The dataset's dimensions.
std::vector<hsize_t> dataset_shape(const Handle& dataset);

// True when the dataset's element type is a floating-point type.
bool dataset_is_float(const Handle& dataset);

// A readable name of an HDF5 datatype: "uint8", "int64", "float32", "string", ...
std::string type_name(hid_t type);
// The same for a dataset's element type.
std::string dataset_type_name(const Handle& dataset);

// Reads the whole dataset converted to native float into `out` (resized).
void read_all_float(const Handle& dataset, std::vector<float>& out, const std::string& what);

}  // namespace prh::h5

namespace prh::h5 {

// File access property lists as named things.
Handle fapl_mpio(MPI_Comm comm);  // parallel: MPI-IO driver
Handle dxpl_independent();        // raw-data transfers, independent MPI-IO

// Groups, attributes and datasets (throw InternalError with HDF5's text).
Handle create_group(hid_t parent, const std::string& name);
Handle open_group(hid_t parent, const std::string& name);
bool exists(hid_t parent, const std::string& path);
void write_attr(hid_t obj, const std::string& name, const std::string& value);
void write_attr(hid_t obj, const std::string& name, std::int64_t value);
void write_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& value);
std::string read_attr_string(hid_t obj, const std::string& name);
// A scalar numeric attribute as int64; InputError naming it if it is
// missing or cannot be read as a number.
std::int64_t read_attr_int(hid_t obj, const std::string& name);
bool has_attr(hid_t obj, const std::string& name);

// A dataset of fixed shape, allocated at creation (early allocation), with
// `fill` written at allocation when given.
Handle create_dataset(hid_t parent, const std::string& name, hid_t type,
                      const std::vector<hsize_t>& dims, bool fill_zero);
Handle open_dataset(hid_t parent, const std::string& name);

// The float16 type h5py writes (IEEE half).
Handle float16_type();

// Writes/reads a box [start, start+count) of a dataset from/to a buffer of
// native type `mem_type`.
void write_box(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
               const std::vector<hsize_t>& count, const void* buf, hid_t dxpl = H5P_DEFAULT);
void read_box(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start,
              const std::vector<hsize_t>& count, void* buf, hid_t dxpl = H5P_DEFAULT);

}  // namespace prh::h5

namespace prh::h5 {

void write_attr(hid_t obj, const std::string& name, double value);
// A dataset of fixed shape, allocated at creation and filled with `*fill`
// (given in `mem_type`) at allocation.
Handle create_dataset_filled(hid_t parent, const std::string& name, hid_t type,
                             const std::vector<hsize_t>& dims, hid_t mem_type, const void* fill);
// Fixed-length UTF-8 strings [n].
void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values);
std::vector<std::string> read_strings(hid_t parent, const std::string& name);
// Whole-dataset writes of native doubles / int64 with the given shape.
void write_doubles(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                   const std::vector<double>& values);
void write_int64s(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                  const std::vector<std::int64_t>& values);
// Removes a link (group or dataset) if it exists.
void remove(hid_t parent, const std::string& name);

}  // namespace prh::h5
