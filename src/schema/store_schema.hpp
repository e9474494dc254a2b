#pragma once
// The layouts of the embedding store (store.h5, docs/store.md), of an embed
// job array's part files (STORE.parts/SET/MODEL/SHARD.h5) and of the results
// file's preparation cache (RESULTS.prep.h5, docs/store.md), declared once
// like the results file's (results_schema.hpp): every group, dataset and
// attribute with its dtype, shape in symbols (N images, L layers, Dmax the
// widest layer, shards, D a layer's width, k the neighbours, U units, rows a
// part's rows) and whether a file may lack it. The store's writers and readers
// take every name from here (schema::store(), part(), prep(): .path, .child,
// .attr; lint.schema_names); `prh-schema-json --store` writes
// the tables as JSON; lint.store_schema, lint.part_schema and
// lint.prep_schema check docs/store.md against them.
//
// No HDF5 here: the tables are data, the store does the I/O (src/h5).

#include <string>
#include <string_view>
#include <vector>

#include "results_schema.hpp"

namespace prh::schema {

// The files' `format` attributes.
inline constexpr const char* kStoreFormat = "prh-store-1";
inline constexpr const char* kPrepFormat = "prh-prep-1";
inline constexpr const char* kPartFormat = "prh-store-part-1";

// Patterns of the objects that code addresses by path.
// store.h5
inline constexpr std::string_view kStoreRoot = "/";
inline constexpr std::string_view kStoreModels = "/models";
inline constexpr std::string_view kStoreModel = "/models/{model}";
inline constexpr std::string_view kStoreSets = "/sets";
inline constexpr std::string_view kStoreSet = "/sets/{set}";
inline constexpr std::string_view kStoreSetModels = "/sets/{set}/models";
inline constexpr std::string_view kStoreItem = "/sets/{set}/models/{model}";
// a part file
inline constexpr std::string_view kPartRoot = "/";
// RESULTS.prep.h5
inline constexpr std::string_view kPrepRoot = "/";
inline constexpr std::string_view kPrepUnits = "/units";
inline constexpr std::string_view kPrepUnit = "/units/{unit}";

// store.h5, in the order of docs/store.md.
const std::vector<Entry>& store_entries();
// A part file.
const std::vector<Entry>& part_entries();
// RESULTS.prep.h5.
const std::vector<Entry>& prep_entries();

// The lookups of schema::path, child, attr and dataset (results_schema.hpp)
// in the store's, a part file's and the preparation cache's tables:
// schema::store().attr(schema::kStoreSet, "view_of"). A name the table does
// not declare is a logic error.
const Table& store();
const Table& part();
const Table& prep();

// {"store": {format, entries}, "part": ..., "prep": ...} (prh-schema-json --store).
std::string store_to_json();

}  // namespace prh::schema
