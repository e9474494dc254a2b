#pragma once
// The embedding store (store.h5, docs/store.md): one parallel HDF5 file,
// created up front and collectively with every dataset allocated early, so
// embedding writes change raw data only, never HDF5 metadata: a process
// killed mid-write cannot corrupt the file's structure. A work item (image
// set, model, shard) is marked done only after its rows are written.
//
// Writes go through one interface (ItemWriter). With parallel HDF5 every
// rank writes the store through MPI-IO; with a serial HDF5 (a build with
// PRH_PARALLEL_HDF5=OFF) rank 0 alone creates and writes it, and every rank
// embeds into part files (the job-array mechanism below) that rank 0 merges
// when the stage ends (docs/store.md, "Serial HDF5"). MPI_Comm appears below
// only because the MPI-IO file driver of parallel HDF5 needs the
// communicator (a serial build ignores it); the store makes no MPI call
// itself.

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <map>
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
  // A view (docs/store.md, "Views"): its images are, bit for bit, the images
  // of set `view_of` at `rows` (data::view_rows), so it is never embedded:
  // it has no items, and readers take the base's rows. Empty: embedded.
  std::string view_of;
  std::vector<std::int64_t> rows;  // [n], rows of view_of
  bool view() const { return !view_of.empty(); }
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
  // Descriptive metadata from the config (empty: not given), written as
  // attributes of /models/NAME.
  std::string training_data, family, objective;
  // Imported features (docs/config.md): the image sets the model has
  // features for; empty: every set. It has no item (group, datasets, done
  // flags) in the other sets.
  std::vector<std::string> sets;
  bool in_set(const std::string& set) const {
    return sets.empty() || std::find(sets.begin(), sets.end(), set) != sets.end();
  }
};

struct StoreLayout {
  nlohmann::json embed_params;  // batch, shard size, dtype, device, ...
  std::string config_file;
  int shard_size = 256;
  std::string feature_dtype = "float32";
  std::vector<SetLayout> sets;
  std::vector<ModelLayout> models;

  std::int64_t shards(std::int64_t n) const { return (n + shard_size - 1) / shard_size; }
  // Whether (set, model) is a work item: the set is embedded (not a view)
  // and the model has features of it.
  bool has_item(std::size_t set, std::size_t model) const {
    return !sets[set].view() && models[model].in_set(sets[set].name);
  }
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

// Opening the store for embedding is three steps (the stage engine's
// protocol, docs/architecture.md); the pipeline runs them in this order:
//
// 1. inspect_store, on rank 0 alone (parallel::decide_on_root): an existing
//    store is checked against `layout`. A changed result-relevant parameter,
//    set or model is refused with an InputError saying what changed; a file
//    that is not a prh store, or cannot be read (damaged, locked), gets its
//    own InputError. New sets and models are to be added (extension).
// 2. create_or_extend_store, on every rank with the same arguments: the
//    collective HDF5 metadata calls (the MPI-IO driver needs `comm`); with
//    serial HDF5, on rank 0 alone.
// 3. finish_store_metadata, on rank 0 alone: ids and labels of new sets,
//    then the completion attribute.
// Then every rank opens its writer (open_item_writer) and reads every done
// flag; a barrier before any rank writes one.
struct StorePlan {
  bool create = false;  // no store yet (or its creation never finished)
  std::vector<std::string> new_sets, new_models, unwritten_sets;
};
void to_json(nlohmann::json& j, const StorePlan& p);
void from_json(const nlohmann::json& j, StorePlan& p);

StorePlan inspect_store(const std::string& path, const StoreLayout& layout);
void create_or_extend_store(const std::string& path, const StoreLayout& layout,
                            const StorePlan& plan, MPI_Comm comm);
void finish_store_metadata(const std::string& path, const StoreLayout& layout,
                           const StorePlan& plan);
// A writer using parallel HDF5 (MPI-IO, independent raw-data writes); with
// serial HDF5, the one writer of the store (rank 0 alone), flushing the file
// before and after each done flag.
std::unique_ptr<ItemWriter> open_item_writer(const std::string& path, const StoreLayout& layout,
                                             MPI_Comm comm);

// Job arrays (docs/store.md "Job arrays"). Tasks of an embed job array share
// no MPI communicator, and HDF5 allows one writing process per file outside
// parallel HDF5, so array tasks never write the store: each finished work
// item becomes its own small HDF5 file, STORE.parts/SET/MODEL/SHARD.h5,
// written to a temporary name and renamed (a killed task leaves no partial
// part). `prh embed` without --array-task merges the parts into the store
// (write rows, mark done, delete the part), so the reduce job of
// `prh submit --array` runs `prh run`. A part records the configuration it was
// made with; merging or resuming with another configuration is refused.
std::string parts_dir(const std::string& store);
std::string part_path(const std::string& store, const std::string& set, const std::string& model,
                      std::int64_t shard);
// Every finished part under parts_dir(store) (temporary files left out), sorted.
std::vector<std::string> list_parts(const std::string& store);

// What a part must match to be merged: embedding parameters, the image set's
// spec and size, the model's spec (checksum included), layer dims, head,
// parsed sidecar (preprocessing) and layer names.
nlohmann::json part_fingerprint(const StoreLayout& layout, int set, int model);

// Checks a part's header only (fast): InputError as read_part's if it was
// made with another configuration.
void check_part(const std::string& path, const nlohmann::json& fingerprint);

struct ItemPart {
  std::int64_t shard = 0, row0 = 0, rows = 0;
  std::vector<float> features;  // [rows, L, Dmax] as in ItemWriter::write_rows
  std::vector<std::int64_t> top1;
  std::vector<float> prob;
  std::vector<std::int64_t> skipped;  // rows of the set skipped (on_bad_image: skip)
};
// Reads a part and checks it against `fingerprint` and the item's shard,
// rows and shape; InputError naming the file and what differs otherwise.
ItemPart read_part(const std::string& path, const nlohmann::json& fingerprint, std::int64_t shard,
                   std::int64_t row0, std::int64_t rows, std::int64_t layers, std::int64_t dmax);

// The writer of an array task (serial HDF5, no MPI): an item is done when the
// store (if it exists; read once, read-only) or a part file says so; writes
// are buffered per item and mark_done writes the part. Only the models with
// used[m] set are checked against an existing store (a task probes only the
// models of its own items). InputError if the store or an existing part was
// made with another configuration.
std::unique_ptr<ItemWriter> open_for_array_task(const std::string& store, const StoreLayout& layout,
                                                const std::vector<bool>& used);

// Progress of a store, read serially (prh status).
struct ItemProgress {
  std::string set, model;
  std::int64_t done = 0, total = 0;
};
struct StoreSummary {
  std::string config_file;
  nlohmann::json embed_params;
  std::vector<ItemProgress> items;
  std::map<std::string, std::string> views;  // view set -> the set it is rows of
};
StoreSummary read_summary(const std::string& path);

}  // namespace prh::store
