#pragma once
// Imported features (docs/config.md, "Imported features"): a model entry
// gives, per image set, a file with that set's features in the set's image
// order. This reads the HDF5 ("FILE.h5:/dataset") and NumPy ("FILE.npy")
// forms, header first (cheap) and then by blocks of rows; the torch.save
// form (".pt") is read by the models layer (LibTorch).

#include <cstdint>
#include <string>
#include <vector>

namespace prh::store {

enum class FeatureFormat { kHdf5, kNpy, kTorch };

// The format a feature spec names: ".npy" NumPy, ".pt"/".pth" torch.save,
// otherwise HDF5 "FILE:/dataset".
FeatureFormat feature_format(const std::string& spec);
// The file a spec names (the part before ":/dataset" for HDF5).
std::string feature_file(const std::string& spec);

// [N, L, D] (L = 1 for an [N, D] array).
struct FeatureShape {
  std::int64_t n = 0, layers = 0, dim = 0;
};

// The shape of an HDF5 or .npy feature array from its header only.
// InputError naming the spec: a missing file or dataset, a damaged or
// hostile header, a non-float type, a rank other than 2 or 3, an empty
// array.
FeatureShape feature_shape(const std::string& spec);

// Rows [row0, row0 + rows) as float32 [rows, L, D] into `out` (resized);
// float32 input is copied bit for bit.
void read_feature_rows(const std::string& spec, std::int64_t row0, std::int64_t rows,
                       std::vector<float>& out);

// The shape from the dimensions of an array (rank 2 or 3, none 0), or an
// InputError naming `what`.
FeatureShape feature_shape_of(const std::vector<std::int64_t>& dims, const std::string& what);

}  // namespace prh::store
