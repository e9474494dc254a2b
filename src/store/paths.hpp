#pragma once
// Internal to the store: the format names and object paths of prh's HDF5
// files, defined once for the writers and the readers (docs/store.md,
// docs/results.md).

#include <string>
#include <string_view>

#include "results_schema.hpp"
#include "store_schema.hpp"

namespace prh::store::paths {

// The format attributes, declared with the layouts (src/schema/).
inline constexpr const char* kStoreFormat = schema::kStoreFormat;
inline constexpr const char* kPartFormat = schema::kPartFormat;
inline constexpr const char* kResultsFormat = schema::kResultsFormat;
inline constexpr const char* kPrepFormat = schema::kPrepFormat;

// store.h5: built from the store schema's patterns (src/schema/store_schema.hpp)
inline std::string set(const std::string& set) {
  return schema::store().path(schema::kStoreSet, {{"set", set}});
}
inline std::string set_models(const std::string& set) {
  return schema::store().path(schema::kStoreSetModels, {{"set", set}});
}
inline std::string item(const std::string& set, const std::string& model) {
  return schema::store().path(schema::kStoreItem, {{"set", set}, {"model", model}});
}
inline std::string model(const std::string& model) {
  return schema::store().path(schema::kStoreModel, {{"model", model}});
}
// The path of dataset `name` ("rows", "skipped") of a set.
inline std::string set_dataset(const std::string& set, std::string_view name) {
  return paths::set(set) + "/" + schema::store().child(schema::kStoreSet, name);
}
// The path of dataset `name` ("features", "done") of the item (set, model).
inline std::string item_dataset(const std::string& set, const std::string& model,
                                std::string_view name) {
  return item(set, model) + "/" + schema::store().child(schema::kStoreItem, name);
}

// results.h5: built from the schema's patterns (src/schema/results_schema.hpp)
inline std::string alignment(const std::string& set) {
  return schema::path(schema::kAlignmentSet, {{"set", set}});
}
inline std::string configuration(const std::string& set, const std::string& config) {
  return schema::path(schema::kAlignmentConfig, {{"set", set}, {"config", config}});
}

inline std::string calibration(const std::string& set) {
  return schema::path(schema::kCalibrationSet, {{"set", set}});
}
inline std::string calibration(const std::string& set, const std::string& config) {
  return schema::path(schema::kCalibrationConfig, {{"set", set}, {"config", config}});
}

}  // namespace prh::store::paths
