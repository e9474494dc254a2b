#pragma once
// Reading the embedding store (docs/store.md) for the reduction stage: what
// the store holds about each image set and model, which work items are done,
// one layer's features and the predictions. Serial and read-only: any number
// of ranks may read the same store at once.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prh/metrics/matrix.hpp"

namespace prh::h5 {
class Handle;  // src/h5/h5.hpp: HDF5 stays inside the store
}

namespace prh::store {

struct StoredSet {
  std::string name;
  nlohmann::json spec;
  std::int64_t n = 0;
  std::vector<std::int64_t> labels;   // [n], -1 unknown
  std::vector<std::uint8_t> skipped;  // [n], 1 = row excluded
};

struct StoredModel {
  std::string name;
  nlohmann::json spec;
  std::vector<std::int64_t> layer_dims;
  std::vector<std::string> layer_names;
  std::int64_t classes = 0;
  std::int64_t parameters = 0;
};

class StoreReader {
 public:
  // InputError naming the path when it is missing or not a finished prh store.
  explicit StoreReader(const std::string& path);

  const std::string& path() const { return path_; }
  nlohmann::json embed_params() const;
  std::int64_t shard_size() const { return shard_size_; }

  bool has_set(const std::string& set) const;
  // A view (docs/store.md, "Views"): the set whose rows it is ("" when the
  // set is embedded itself), and which rows. Every reader below reads a
  // view's features, predictions, done flags and skipped rows from its base
  // at those rows, so callers need not know.
  std::string view_of(const std::string& set) const;
  std::vector<std::int64_t> view_rows(const std::string& set) const;
  bool has_model(const std::string& model) const;
  bool has_item(const std::string& set, const std::string& model) const;
  StoredSet set(const std::string& name) const;
  StoredModel model(const std::string& name) const;
  // Done flags of the item's shards (empty when the item does not exist).
  std::vector<std::uint8_t> done(const std::string& set, const std::string& model) const;

  // Layer `layer` of the model on the set: every row, [n, dim] (any stored
  // float type, converted to float).
  metrics::MatrixF read_layer(const std::string& set, const std::string& model, int layer,
                              std::int64_t dim) const;
  // Top-1 class and probability per row; both empty when the model has no head.
  void read_predictions(const std::string& set, const std::string& model,
                        std::vector<std::int64_t>& top1, std::vector<float>& prob) const;

 private:
  std::string path_;
  std::shared_ptr<h5::Handle> file_;
  std::int64_t shard_size_ = 0;
};

}  // namespace prh::store
