#pragma once
// The layouts of the embedding store (store.h5, docs/store.md) and of the
// results file's preparation cache (RESULTS.prep.h5, docs/store.md), declared
// once like the results file's (results_schema.hpp): every group, dataset and
// attribute with its dtype, shape in symbols (N images, L layers, Dmax the
// widest layer, shards, D a layer's width, k the neighbours, U units) and
// whether a file may lack it. `prh-schema-json --store` writes both as JSON;
// lint.store_schema checks docs/store.md against it.
//
// No HDF5 here: the tables are data, the store does the I/O (src/h5).

#include <string>
#include <vector>

#include "results_schema.hpp"

namespace prh::schema {

// The files' `format` attributes.
inline constexpr const char* kStoreFormat = "prh-store-1";
inline constexpr const char* kPrepFormat = "prh-prep-1";

// store.h5, in the order of docs/store.md.
const std::vector<Entry>& store_entries();
// RESULTS.prep.h5.
const std::vector<Entry>& prep_entries();

// {"store": {format, entries}, "prep": {format, entries}} (prh-schema-json --store).
std::string store_to_json();

}  // namespace prh::schema
