#include "prh/store/imported_features.hpp"

#include <filesystem>

#include "h5.hpp"
#include "h5_features.hpp"
#include "prh/core/error.hpp"
#include "prh/store/features.hpp"
#include "prh/store/npy.hpp"

namespace prh::store {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void check_exists(const std::string& file, const std::string& spec) {
  std::error_code ec;
  PRH_CHECK_INPUT(std::filesystem::is_regular_file(file, ec), "{}: no such feature file{}", file,
                  file == spec ? "" : fmt::format(" (features '{}')", spec));
}

}  // namespace

FeatureFormat feature_format(const std::string& spec) {
  if (ends_with(spec, ".npy")) return FeatureFormat::kNpy;
  if (ends_with(spec, ".pt") || ends_with(spec, ".pth")) return FeatureFormat::kTorch;
  return FeatureFormat::kHdf5;
}

std::string feature_file(const std::string& spec) {
  if (feature_format(spec) != FeatureFormat::kHdf5) return spec;
  return parse_dataset_ref(spec).file;
}

FeatureShape feature_shape_of(const std::vector<std::int64_t>& dims, const std::string& what) {
  PRH_CHECK_INPUT(dims.size() == 2 || dims.size() == 3,
                  "{}: features must have shape [N, D] or [N, L, D], got rank {}", what,
                  dims.size());
  for (auto d : dims) PRH_CHECK_INPUT(d > 0, "{}: empty array (a dimension is 0)", what);
  return {dims[0], dims.size() == 3 ? dims[1] : 1, dims.back()};
}

FeatureShape feature_shape(const std::string& spec) {
  const auto format = feature_format(spec);
  PRH_ASSERT(format != FeatureFormat::kTorch, "feature_shape: {} is read by the models layer",
             spec);
  if (format == FeatureFormat::kNpy) {
    check_exists(spec, spec);
    return feature_shape_of(read_npy_header(spec).shape, spec);
  }
  const auto ref = parse_dataset_ref(spec);
  check_exists(ref.file, spec);
  h5::quiet();
  auto file = h5::open_file_readonly(ref.file);
  auto ds = h5::open_dataset(file, ref.file, ref.dataset);
  PRH_CHECK_INPUT(h5::dataset_is_float(ds),
                  "{}: features must be floating point (float16, float32 or float64), got {}",
                  ref.text(), h5::dataset_type_name(ds));
  std::vector<std::int64_t> dims;
  for (auto d : h5::dataset_shape(ds)) dims.push_back(static_cast<std::int64_t>(d));
  return feature_shape_of(dims, ref.text());
}

void read_feature_rows(const std::string& spec, std::int64_t row0, std::int64_t rows,
                       std::vector<float>& out) {
  if (feature_format(spec) == FeatureFormat::kNpy) {
    check_exists(spec, spec);
    read_npy_rows(spec, read_npy_header(spec), row0, rows, out);
    return;
  }
  const auto ref = parse_dataset_ref(spec);
  check_exists(ref.file, spec);
  h5::quiet();
  auto file = h5::open_file_readonly(ref.file);
  auto ds = h5::open_dataset(file, ref.file, ref.dataset);
  h5::read_rows_as_float(ds, static_cast<std::uint64_t>(row0), static_cast<std::uint64_t>(rows),
                         out, ref.text());
}

}  // namespace prh::store
