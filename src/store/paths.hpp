#pragma once
// Internal to the store: the format names and object paths of prh's HDF5
// files, defined once for the writers and the readers (docs/store.md,
// docs/results.md).

#include <string>

#include "results_schema.hpp"
#include "store_schema.hpp"

namespace prh::store::paths {

// The format attributes, declared with the layouts (src/schema/).
inline constexpr const char* kStoreFormat = schema::kStoreFormat;
inline constexpr const char* kPartFormat = "prh-store-part-1";
inline constexpr const char* kResultsFormat = schema::kResultsFormat;
inline constexpr const char* kPrepFormat = schema::kPrepFormat;

// store.h5
inline std::string set(const std::string& set) {
  return "/sets/" + set;
}
inline std::string item(const std::string& set, const std::string& model) {
  return "/sets/" + set + "/models/" + model;
}
inline std::string model(const std::string& model) {
  return "/models/" + model;
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
