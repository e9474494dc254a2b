#include "prh/store/features.hpp"

#include "h5.hpp"
#include "prh/core/error.hpp"

namespace prh::store {

DatasetRef parse_dataset_ref(const std::string& spec) {
  const auto cut = spec.rfind(":/");
  PRH_CHECK_INPUT(cut != std::string::npos && cut > 0,
                  "'{}': expected FILE.h5:/path/to/dataset (a file, a colon, then the dataset's "
                  "absolute path)",
                  spec);
  return {spec.substr(0, cut), spec.substr(cut + 1)};
}

std::vector<metrics::MatrixF> read_features(const DatasetRef& ref) {
  const std::string what = ref.text();
  auto file = h5::open_file_readonly(ref.file);
  auto ds = h5::open_dataset(file, ref.file, ref.dataset);
  const auto shape = h5::dataset_shape(ds);
  PRH_CHECK_INPUT(shape.size() == 2 || shape.size() == 3,
                  "{}: features must have shape [N, D] or [N, L, D], got rank {}", what,
                  shape.size());
  PRH_CHECK_INPUT(h5::dataset_is_float(ds),
                  "{}: features must be floating point (float32 or float64), got {}", what,
                  h5::dataset_type_name(ds));
  for (auto d : shape) PRH_CHECK_INPUT(d > 0, "{}: empty array (a dimension is 0)", what);
  const auto n = static_cast<metrics::Index>(shape[0]);
  const auto layers = shape.size() == 3 ? static_cast<metrics::Index>(shape[1]) : 1;
  const auto d = static_cast<metrics::Index>(shape.back());
  std::vector<float> buf;
  h5::read_all_float(ds, buf, what);
  std::vector<metrics::MatrixF> out(static_cast<std::size_t>(layers), metrics::MatrixF(n, d));
  for (metrics::Index i = 0; i < n; ++i)
    for (metrics::Index l = 0; l < layers; ++l)
      std::copy_n(buf.data() + (i * layers + l) * d, d,
                  out[static_cast<std::size_t>(l)].data() + i * d);
  return out;
}

}  // namespace prh::store
