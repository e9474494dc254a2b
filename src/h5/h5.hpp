#pragma once
// The one way into HDF5 (library prh_h5, an internal header of the store and
// the data layer's HDF5 image reader): only src/h5 calls HDF5's C API or
// includes its headers (docs/architecture.md, "The HDF5 boundary"; the test
// lint.h5_boundary checks it). Thin RAII: every handle is an object that
// closes itself and every call is checked. A file that HDF5 cannot read
// (missing, not HDF5, damaged) gives prh::InputError naming the file and the
// object; prh::InternalError is kept for prh's own mistakes (a write that
// fails, a property HDF5 refuses).
//
// HDF5's types stay behind this header: an identifier is an Id (hid_t, an
// int64_t since HDF5 1.10; checked where this is built), a dimension an
// hsize (hsize_t), and the predefined types are functions (native_float(),
// ieee_f64le(), ...).

// The C API of MPI only, for fapl_mpio: no C++ bindings to link.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prh::h5 {

using Id = std::int64_t;           // hid_t
using hsize = unsigned long long;  // hsize_t
inline constexpr Id kDefault = 0;  // H5P_DEFAULT
inline constexpr Id kInvalid = -1;

// True when this build's HDF5 is parallel (MPI-IO).
bool parallel();
// "FILE (HDF5 1.10.8, parallel)": the shared library that HDF5's calls reach.
std::string library();

// Silences HDF5's automatic error printing (we report errors ourselves).
void quiet();

// HDF5's current error stack as one line ("unknown HDF5 error" when empty);
// clears it.
std::string error_stack();

// An owned identifier, released with the matching H5*close.
class Handle {
 public:
  using Closer = int (*)(Id);
  Handle() = default;
  Handle(Id id, Closer close) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, kInvalid)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, kInvalid);
      close_ = o.close_;
    }
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = kInvalid;
  }
  Id id() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }

 private:
  Id id_ = kInvalid;
  Closer close_ = nullptr;
};

// --- Types ----------------------------------------------------------------------

// Native memory types.
Id native_float();
Id native_double();
Id native_int32();
Id native_int64();
Id native_uint8();
Id native_uint64();
// The little-endian file types prh writes.
Id ieee_f32le();
Id ieee_f64le();
Id std_i32le();
Id std_i64le();
Id std_u8le();
// The float16 type h5py writes (IEEE half).
Handle float16_type();
// Fixed-length, NUL-padded UTF-8 strings of `width` bytes.
Handle fixed_string_type(std::size_t width);

enum class Class { integer, floating, string, other };
Class type_class(Id type);
std::size_t type_size(Id type);
bool type_is_unsigned(Id type);
bool same_type(Id a, Id b);
// A readable name of an HDF5 datatype: "uint8", "int64", "float32", "string", ...
std::string type_name(Id type);

// --- Files ----------------------------------------------------------------------

// Opens an existing file read-only; InputError naming the path if it
// cannot, or if a global heap of the file is damaged (one HDF5 would loop
// on when reading a variable-length string).
Handle open_file_readonly(const std::string& path);
// The file's path as HDF5 knows it, from any object in it ("" if none).
std::string file_name(Id obj);
// The path of the object `obj` inside its file ("" if HDF5 cannot say).
std::string object_name(Id obj);

// 1: an HDF5 file; 0: not one; -1: cannot tell (HDF5's H5Fis_hdf5).
int is_hdf5(const std::string& path);
// Open / create (truncating) a file; an invalid Handle when HDF5 cannot (the
// caller names the file in its own message, with error_stack()).
Handle try_open_file(const std::string& path, bool write, Id fapl = kDefault);
Handle try_create_file(const std::string& path, Id fapl = kDefault);
// Writes the file's cached data to it (H5Fflush of the file holding `obj`;
// `global`: every file mounted with it); InternalError naming the file.
void flush(Id obj, bool global = false);

// Property lists as named things.
Handle fapl_default();            // file access, the sec2 driver
Handle dxpl_default();            // raw-data transfers, defaults
Handle fapl_mpio(MPI_Comm comm);  // parallel: MPI-IO driver
Handle dxpl_independent();        // raw-data transfers, independent MPI-IO
// Dataset access with a chunk cache of `bytes` (HDF5's default is 1 MiB).
Handle dapl_chunk_cache(std::size_t bytes);

// --- Objects ----------------------------------------------------------------------

enum class Kind { none, group, dataset, datatype, other };
// Whether the link `path` exists below `parent`, checked link by link (a
// missing or unreadable intermediate group is false; the error is cleared).
bool exists(Id parent, const std::string& path);
// The kind of object at `path` (none where there is no link or no object).
Kind kind(Id parent, const std::string& path);
// An object (group, dataset, named datatype) by path; InputError naming the
// file and the path.
Handle open_object(Id parent, const std::string& path);
// The same, an invalid Handle when it cannot be opened.
Handle try_open_object(Id parent, const std::string& path);
Kind kind_of(const Handle& obj);
// The names of a group's members: in creation order where the file tracks
// it, else in name order; InputError naming the file and the group.
std::vector<std::string> members(Id group);
// In name order only.
std::vector<std::string> members_by_name(Id group);

Handle create_group(Id parent, const std::string& name);
Handle open_group(Id parent, const std::string& name);
// Removes a link (group or dataset) if it exists.
void remove(Id parent, const std::string& name);

// --- Attributes ---------------------------------------------------------------------

bool has_attr(Id obj, const std::string& name);
void delete_attr(Id obj, const std::string& name);
// Variable-length UTF-8 string (scalar): h5py reads it as str.
void write_attr(Id obj, const std::string& name, const std::string& value);
void write_attr(Id obj, const std::string& name, std::int64_t value);
void write_attr(Id obj, const std::string& name, const std::vector<std::int64_t>& value);
void write_attr(Id obj, const std::string& name, double value);

// An attribute by name; InputError naming the file, object and attribute.
Handle open_attr(Id obj, const std::string& name);
// Its element type's class and its number of elements.
Class attr_class(const Handle& attr);
std::size_t attr_points(const Handle& attr);
// Every element of a string attribute (any shape), fixed- or variable-length,
// read the one way (strings end at the first NUL; space-padded ones lose
// their trailing spaces); InputError if it is not a string or cannot be read.
std::vector<std::string> attr_strings(const Handle& attr);
// Every element converted to the native type `mem` into `out` (room for
// attr_points() elements); InputError if it cannot.
void read_attr(const Handle& attr, Id mem, void* out);

// A scalar string attribute.
std::string read_attr_string(Id obj, const std::string& name);
// A scalar numeric attribute as int64; InputError naming it if it is
// missing or cannot be read as a number.
std::int64_t read_attr_int(Id obj, const std::string& name);
// Every element of a numeric attribute as int64.
std::vector<std::int64_t> read_attr_ints(Id obj, const std::string& name);

// --- Datasets -----------------------------------------------------------------------

// A dataset of fixed shape, allocated at creation (early allocation), with
// zeros written at allocation when `fill_zero`.
Handle create_dataset(Id parent, const std::string& name, Id type, const std::vector<hsize>& dims,
                      bool fill_zero);
// The same, filled with `*fill` (given in `mem_type`) at allocation.
Handle create_dataset_filled(Id parent, const std::string& name, Id type,
                             const std::vector<hsize>& dims, Id mem_type, const void* fill);
// Opens a dataset by path; InputError naming the file and the dataset.
Handle open_dataset(Id parent, const std::string& name);
// The same, an invalid Handle when it cannot be opened (dapl: access list).
Handle try_open_dataset(Id parent, const std::string& name, Id dapl = kDefault);
// Opens a dataset by path inside an open file, checking the path link by
// link so that a missing group gives a clean message; InputError naming both.
Handle open_dataset(const Handle& file, const std::string& file_path, const std::string& dataset);

// The dataset's dimensions.
std::vector<hsize> dataset_shape(const Handle& dataset);
// Its element type (owned), class, size in bytes and name.
Handle dataset_type(const Handle& dataset);
Class dataset_class(const Handle& dataset);
bool dataset_is_float(const Handle& dataset);
std::string dataset_type_name(const Handle& dataset);
// The chunk dimensions of a chunked dataset; empty for other layouts.
std::vector<hsize> chunk_dims(const Handle& dataset);

// Reads the whole dataset converted to the native type `mem` into `out`
// (room for every element); InputError naming the file and dataset.
void read_all(const Handle& dataset, Id mem, void* out);
// Reads the whole dataset converted to native float into `out` (resized).
void read_all_float(const Handle& dataset, std::vector<float>& out, const std::string& what);
// Every element of a 1-D string dataset, read as attr_strings reads.
std::vector<std::string> dataset_strings(const Handle& dataset);

// Writes/reads a box [start, start+count) of a dataset from/to a buffer of
// native type `mem_type` holding the box's elements in order. A failed read
// is an InputError naming the file and the dataset; a failed write an
// InternalError.
void write_box(Id dataset, Id mem_type, const std::vector<hsize>& start,
               const std::vector<hsize>& count, const void* buf, Id dxpl = kDefault);
void read_box(Id dataset, Id mem_type, const std::vector<hsize>& start,
              const std::vector<hsize>& count, void* buf, Id dxpl = kDefault);

// Fixed-length UTF-8 strings [n].
void write_strings(Id parent, const std::string& name, const std::vector<std::string>& values);
std::vector<std::string> read_strings(Id parent, const std::string& name);
// Whole-dataset writes of native doubles / int64 with the given shape.
void write_doubles(Id parent, const std::string& name, const std::vector<hsize>& dims,
                   const std::vector<double>& values);
void write_int64s(Id parent, const std::string& name, const std::vector<hsize>& dims,
                  const std::vector<std::int64_t>& values);

}  // namespace prh::h5
