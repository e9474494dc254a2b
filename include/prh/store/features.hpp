#pragma once
// Reading feature matrices that users (or h5py) wrote: an HDF5 dataset of
// shape [N, D] or [N, L, D], any floating-point type.

#include <string>
#include <vector>

#include "prh/metrics/matrix.hpp"

namespace prh::store {

// "file.h5:/path/to/dataset" split into its parts; InputError when malformed.
struct DatasetRef {
  std::string file;
  std::string dataset;
  std::string text() const { return file + ":" + dataset; }
};
DatasetRef parse_dataset_ref(const std::string& spec);

// The layers of the dataset: one [N, D] matrix per layer (L = 1 for rank 2).
// InputError naming the file and dataset for a missing file or dataset, a
// wrong rank, a non-float type or an empty array.
std::vector<metrics::MatrixF> read_features(const DatasetRef& ref);

}  // namespace prh::store
