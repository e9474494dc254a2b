#pragma once
// Internal to the store: reading the results file's datasets as the schema
// declares them (src/schema/results_schema.cpp), for the C++ reader
// (results_reader.cpp) and the group analysis's (results_groups.cpp): the
// dtype and shape of every dataset are checked, a file that disagrees is an
// input error naming the file and the dataset.

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "h5.hpp"
#include "prh/core/error.hpp"
#include "results_schema.hpp"

namespace prh::store::detail {

// The open file and its path, for messages that name both.
struct File {
  std::string path;
  h5::Handle handle;
  h5::Id id() const { return handle.id(); }
};

inline std::string shape_text(const std::vector<h5::hsize>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Whether the file has a dataset at `path` (something else there: an input error).
inline bool has_dataset(const File& f, const std::string& path) {
  const auto kind = h5::kind(f.id(), path);
  PRH_CHECK_INPUT(kind == h5::Kind::none || kind == h5::Kind::dataset, "{}: '{}' is not a dataset",
                  f.path, path);
  return kind == h5::Kind::dataset;
}

// The schema's dtype of a dataset read as T (double, int64, int32, uint8),
// and T's native HDF5 type.
template <class T>
struct Stored {
  static constexpr std::string_view dtype = std::is_same_v<T, double>         ? "float64"
                                            : std::is_same_v<T, std::int64_t> ? "int64"
                                            : std::is_same_v<T, std::int32_t> ? "int32"
                                                                              : "uint8";
  static_assert(std::is_same_v<T, double> || std::is_same_v<T, std::int64_t> ||
                std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint8_t>);
  static h5::Id mem() {
    if constexpr (std::is_same_v<T, double>)
      return h5::native_double();
    else if constexpr (std::is_same_v<T, std::int64_t>)
      return h5::native_int64();
    else if constexpr (std::is_same_v<T, std::int32_t>)
      return h5::native_int32();
    else
      return h5::native_uint8();
  }
};

// A numeric dataset of exactly the shape `want`, converted to `T`.
template <class T>
std::vector<T> read_numbers(const File& f, const std::string& path,
                            const std::vector<h5::hsize>& want) {
  auto ds = h5::open_dataset(f.handle, f.path, path);
  const auto shape = h5::dataset_shape(ds);
  PRH_CHECK_INPUT(shape == want, "{}: '{}' has shape {}, expected {}", f.path, path,
                  shape_text(shape), shape_text(want));
  const auto cls = h5::dataset_class(ds);
  PRH_CHECK_INPUT(cls == h5::Class::integer || cls == h5::Class::floating,
                  "{}: '{}' is {}, expected numbers", f.path, path, h5::dataset_type_name(ds));
  std::size_t total = 1;
  for (auto d : shape) total *= d;
  std::vector<T> out(total);
  h5::read_all(ds, Stored<T>::mem(), out.data());
  return out;
}

enum class Need { optional, required };

// Dataset `name` (a schema pattern: "scores", "{method}_ci_low") of the group
// at `group` whose schema pattern is `pattern`, of the shape the schema
// declares with its symbols replaced by `sizes`, read as T (the schema's
// dtype; a reader that asks for another is a logic error). Optional: empty
// when the file does not have it.
template <class T>
std::vector<T> read_declared(const File& f, const std::string& group, std::string_view pattern,
                             std::string_view name, const schema::Sizes& sizes,
                             Need need = Need::optional, std::string_view method = "") {
  const schema::Entry& e = schema::dataset(pattern, name);
  PRH_ASSERT(e.dtype == Stored<T>::dtype, "results reader: {}/{} is {} in the schema, read as {}",
             pattern, name, e.dtype, Stored<T>::dtype);
  const std::string path = group + "/" + schema::child(pattern, name, {{"method", method}});
  if (need == Need::optional && !has_dataset(f, path)) return {};
  const auto dims = schema::shape(e, sizes);
  return read_numbers<T>(f, path, std::vector<h5::hsize>(dims.begin(), dims.end()));
}

}  // namespace prh::store::detail
