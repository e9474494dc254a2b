#pragma once
// The embedding store (store.h5, docs/store.md): one parallel HDF5 file,
// created up front and collectively with every dataset allocated early, so
// embedding writes change raw data only, never HDF5 metadata: a process
// killed mid-write cannot corrupt the file's structure. A work item (image
// set, model, shard) is marked done only after its rows are written.
//
// Writes go through one interface (ItemWriter) so that a serial-HDF5 mode
// (one writer rank, or per-rank files merged) can be added later without
// touching the pipeline.

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace prh::store {

// What the store records about an image set (known before embedding).
struct SetLayout {
  std::string name;
  nlohmann::json spec;  // canonical JSON of the set (config)
  std::int64_t n = 0;   // images
  std::vector<std::string> ids;
  std::vector<std::int64_t> labels;
};

// What the store records about a model (known after probing it).
struct ModelLayout {
  std::string name;
  nlohmann::json spec;  // canonical JSON (config) plus checksum
  std::vector<std::int64_t> layer_dims;
  std::vector<std::string> layer_names;
  std::int64_t classes = 0;  // 0: no classifier head
  std::int64_t parameters = 0;
  nlohmann::json sidecar;
};

struct StoreLayout {
  nlohmann::json embed_params;  // batch, shard size, dtype, device, ...
  std::string config_file;
  int shard_size = 256;
  std::string feature_dtype = "float32";
  std::vector<SetLayout> sets;
  std::vector<ModelLayout> models;

  std::int64_t shards(std::int64_t n) const { return (n + shard_size - 1) / shard_size; }
};

// Writes one work item's rows, then marks it done. Rows: features
// [rows, L, Dmax] (zero-padded beyond each layer's D) and, where the model has
// a head, top-1 class and its probability.
class ItemWriter {
 public:
  virtual ~ItemWriter() = default;
  virtual void write_rows(int set, int model, std::int64_t row0, std::int64_t rows,
                          const std::vector<float>& features, const std::vector<std::int64_t>& top1,
                          const std::vector<float>& prob) = 0;
  virtual void mark_skipped(int set, std::int64_t row) = 0;
  // Durability point: everything written for the item is in the file before
  // the done flag is.
  virtual void mark_done(int set, int model, std::int64_t shard) = 0;
  virtual bool is_done(int set, int model, std::int64_t shard) const = 0;
};

// Collective over comm: creates the store, or opens an existing one and
// checks it against `layout`: a changed result-relevant parameter, set or
// model is refused with an InputError saying what changed; new sets or
// models are added (the store is extended). Then returns a writer using
// parallel HDF5 (MPI-IO, independent raw-data writes).
std::unique_ptr<ItemWriter> open_for_embedding(const std::string& path, const StoreLayout& layout,
                                               MPI_Comm comm);

// Progress of a store, read serially (prh status).
struct ItemProgress {
  std::string set, model;
  std::int64_t done = 0, total = 0;
};
struct StoreSummary {
  std::string config_file;
  nlohmann::json embed_params;
  std::vector<ItemProgress> items;
};
StoreSummary read_summary(const std::string& path);

}  // namespace prh::store
