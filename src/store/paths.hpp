#pragma once
// Internal to the store: the format names and object paths of prh's HDF5
// files, defined once for the writers and the readers (docs/store.md,
// docs/results.md).

#include <string>

namespace prh::store::paths {

inline constexpr const char* kStoreFormat = "prh-store-1";
inline constexpr const char* kPartFormat = "prh-store-part-1";
inline constexpr const char* kResultsFormat = "prh-results-1";
inline constexpr const char* kPrepFormat = "prh-prep-1";

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

// results.h5
inline std::string alignment(const std::string& set) {
  return "/alignment/" + set;
}
inline std::string configuration(const std::string& set, const std::string& config) {
  return "/alignment/" + set + "/" + config;
}

inline std::string calibration(const std::string& set) {
  return "/calibration/" + set;
}
inline std::string calibration(const std::string& set, const std::string& config) {
  return "/calibration/" + set + "/" + config;
}

}  // namespace prh::store::paths
