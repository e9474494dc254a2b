#include "store_schema.hpp"

namespace prh::schema {
namespace {

using declare::A;
using declare::D;
using declare::G;
using declare::opt;
using declare::req;

std::vector<Entry> make_store() {
  return {
      G("/", req, "the file"),
      A("/", "format", "string", "", req, "\"prh-store-1\""),
      A("/", "prh_version", "string", "", req, "the prh that created it"),
      A("/", "config_file", "string", "", req, "the sweep config's path"),
      A("/", "embed_params", "json", "", req, "what the features depend on"),
      A("/", "shard_size", "int64", "", req, "rows per work item"),
      A("/", "complete", "int64", "", req, "1 once creation finished"),
      G("/models", req, "the models"),
      G("/models/{model}", req, "one group per model"),
      A("/models/{model}", "spec", "json", "", req, "name, path, sidecar, checksum"),
      A("/models/{model}", "layer_dims", "int64", "[L]", req, "each layer's width"),
      A("/models/{model}", "layer_names", "json", "", req, "JSON list of L names"),
      A("/models/{model}", "classes", "int64", "", req, "classifier classes (0: no head)"),
      A("/models/{model}", "parameters", "int64", "", req, "parameter count"),
      A("/models/{model}", "sidecar", "json", "", req, "input size, resize, crop, ..."),
      A("/models/{model}", "training_data", "string", "", opt, "the config's label (\"\": none)"),
      A("/models/{model}", "family", "string", "", opt, "the config's label (\"\": none)"),
      A("/models/{model}", "objective", "string", "", opt, "the config's label (\"\": none)"),
      G("/sets", req, "the image sets"),
      G("/sets/{set}", req, "one group per image set"),
      A("/sets/{set}", "spec", "json", "", req, "the set's config entry"),
      A("/sets/{set}", "n", "int64", "", req, "images"),
      A("/sets/{set}", "metadata_written", "int64", "", opt, "1 once ids and labels are"),
      A("/sets/{set}", "view_of", "string", "", opt, "a view: the set whose rows it is"),
      D("/sets/{set}/ids", "string", "[N]", req, "image ids"),
      D("/sets/{set}/labels", "int64", "[N]", req, "class labels, -1 unknown"),
      // a view (docs/store.md, Views) has rows instead of skipped and models
      D("/sets/{set}/skipped", "uint8", "[N]", opt, "1: unreadable, skipped (not in a view)"),
      D("/sets/{set}/rows", "int64", "[N]", opt, "a view: its rows of view_of"),
      G("/sets/{set}/models", opt, "the models' items (not in a view)"),
      G("/sets/{set}/models/{model}", opt, "one group per model embedding the set"),
      A("/sets/{set}/models/{model}", "layer_dims", "int64", "[L]", req, "each layer's width"),
      D("/sets/{set}/models/{model}/features", "float32", "[N, L, Dmax]", req,
        "features (float16 when the config asks)"),
      D("/sets/{set}/models/{model}/top1", "int64", "[N]", opt, "predicted class (heads)"),
      D("/sets/{set}/models/{model}/prob", "float32", "[N]", opt, "its probability (heads)"),
      D("/sets/{set}/models/{model}/done", "uint8", "[shards]", req, "1: shard written"),
  };
}

std::vector<Entry> make_part() {
  return {
      G("/", req, "one work item of an embed job array"),
      A("/", "format", "string", "", req, "\"prh-store-part-1\""),
      A("/", "item", "json", "", req,
        "fingerprint, shard, row0, rows, layers, dmax, skipped, prh_version"),
      D("/features", "float32", "[rows, L, Dmax]", req, "features (the store's feature dtype)"),
      D("/top1", "int64", "[rows]", opt, "predicted class (heads)"),
      D("/prob", "float32", "[rows]", opt, "its probability (heads)"),
  };
}

std::vector<Entry> make_prep() {
  return {
      G("/", req, "the file"),
      A("/", "format", "string", "", req, "\"prh-prep-1\""),
      A("/", "identity", "json", "", req, "what the cache was made for (written last)"),
      G("/units", req, "the (set, model, layer) units"),
      G("/units/{unit}", req, "one group per unit, numbered"),
      D("/units/{unit}/x", "float32", "[N, D]", req, "preprocessed features"),
      D("/units/{unit}/nbr_index", "int32", "[N, k]", opt, "neighbour lists (kNN metrics)"),
      D("/units/{unit}/nbr_sim", "float32", "[N, k]", opt, "their similarities"),
      D("/units/{unit}/gram", "float64", "[D, D]", opt, "Gram matrix (CKA, SVCCA)"),
      D("/units/{unit}/svcca_{dim}", "float64", "[D, dim]", opt, "SVCCA basis"),
      D("/units/{unit}/svcca_problem_{dim}", "uint8", "[512]", opt, "the basis's problem"),
      D("/done", "uint8", "[U]", req, "1: unit written"),
  };
}

}  // namespace

const std::vector<Entry>& store_entries() {
  static const std::vector<Entry> table = make_store();
  return table;
}

const std::vector<Entry>& part_entries() {
  static const std::vector<Entry> table = make_part();
  return table;
}

const std::vector<Entry>& prep_entries() {
  static const std::vector<Entry> table = make_prep();
  return table;
}

const Table& store() {
  static const Table table("store", store_entries());
  return table;
}

const Table& part() {
  static const Table table("part file", part_entries());
  return table;
}

const Table& prep() {
  static const Table table("preparation cache", prep_entries());
  return table;
}

std::string store_to_json() {
  nlohmann::ordered_json doc;
  doc["generated_by"] = "prh-schema-json --store (src/schema/store_schema.cpp); do not edit";
  doc["store"] = {{"format", kStoreFormat}, {"entries", entries_json(store_entries())}};
  doc["part"] = {{"format", kPartFormat}, {"entries", entries_json(part_entries())}};
  doc["prep"] = {{"format", kPrepFormat}, {"entries", entries_json(prep_entries())}};
  return doc.dump(1) + "\n";
}

}  // namespace prh::schema
