#pragma once
// The layout of the results file (results.h5), declared once (issue 26): every
// group, dataset and attribute with its dtype, shape (in symbols: M models,
// K configurations, L sweep levels, P model pairs) and whether a file may lack
// it. The writer and the C++ reader build their paths from these patterns
// (schema::path), `prh-schema-json` writes the table as JSON
// (python/prh/results_schema.json, read by prh.results), and
// lint.results_schema checks docs/results.md against it.
//
// No HDF5 here: the table is data, the store does the I/O (src/h5).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace prh::schema {

enum class Kind { group, dataset, attribute };

struct Entry {
  Kind kind;
  // The object's path pattern: "/alignment/{set}/{config}/scores". For an
  // attribute, the path of the object that carries it.
  std::string_view path;
  std::string_view attribute;  // the attribute's name ("" for groups and datasets)
  // float64, int64, int32, uint8, string (fixed-length UTF-8 for datasets,
  // variable-length for attributes; "json" is a string holding JSON), "" for groups.
  std::string_view dtype;
  std::string_view shape;  // "[M, M]", "[K]", "" for scalars and groups
  bool optional;           // a valid file may lack it
  std::string_view doc;    // one line
};

// The file's `format` attribute.
inline constexpr const char* kResultsFormat = "prh-results-1";

// Patterns of the objects that code addresses by path.
inline constexpr std::string_view kRoot = "/";
inline constexpr std::string_view kModels = "/models";
inline constexpr std::string_view kConfigurations = "/configurations";
inline constexpr std::string_view kAlignment = "/alignment";
inline constexpr std::string_view kAlignmentSet = "/alignment/{set}";
inline constexpr std::string_view kAlignmentConfig = "/alignment/{set}/{config}";
inline constexpr std::string_view kScores = "/alignment/{set}/{config}/scores";
inline constexpr std::string_view kLayers = "/alignment/{set}/{config}/layers";
inline constexpr std::string_view kAlignmentDone = "/alignment/{set}/{config}/done";
inline constexpr std::string_view kLayersRoot = "/layers";
inline constexpr std::string_view kLayersSet = "/layers/{set}";
inline constexpr std::string_view kLayerMatrices = "/layers/{set}/{config}";
inline constexpr std::string_view kLayerProfile = "/layer_profile";
inline constexpr std::string_view kLayerProfileSet = "/layer_profile/{set}";
inline constexpr std::string_view kCorrelation = "/correlation";
inline constexpr std::string_view kCorrelationSet = "/correlation/{set}";
inline constexpr std::string_view kPredictions = "/predictions";
inline constexpr std::string_view kPredictionsSet = "/predictions/{set}";
inline constexpr std::string_view kComparison = "/comparison";
inline constexpr std::string_view kComparisonPair = "/comparison/{set_a}/{set_b}";
inline constexpr std::string_view kCalibration = "/calibration";
inline constexpr std::string_view kCalibrationSet = "/calibration/{set}";
inline constexpr std::string_view kCalibrationDone = "/calibration/{set}/done";
inline constexpr std::string_view kCalibrationConfig = "/calibration/{set}/{config}";
inline constexpr std::string_view kQvalue = "/calibration/{set}/{config}/qvalue";
inline constexpr std::string_view kNullScores = "/calibration/{set}/{config}/null_scores";
inline constexpr std::string_view kNullScoresReverse =
    "/calibration/{set}/{config}/null_scores_reverse";
inline constexpr std::string_view kGroups = "/groups";
inline constexpr std::string_view kGroupsSet = "/groups/{set}";
inline constexpr std::string_view kGroupsFactor = "/groups/{set}/{factor}";
inline constexpr std::string_view kSweeps = "/sweeps";
inline constexpr std::string_view kSweep = "/sweeps/{sweep}";

// Every entry, in the order of docs/results.md.
const std::vector<Entry>& entries();

// The entry of this object (attribute "" for a group or dataset), or nullptr.
const Entry* find(std::string_view path, std::string_view attribute = "");

// A pattern's path: each {symbol} replaced by its value. The pattern must be
// an entry's path (a logic error otherwise: paths are built only from the
// table) and every symbol must be given.
std::string path(std::string_view pattern,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> values);

// The name of an object inside `parent` (a group pattern), for code that
// writes or reads relative to an open group: `name` (a pattern such as
// "{method}_ci_low") with its symbols replaced; parent + "/" + name must be an
// entry's path (a logic error otherwise).
std::string child(std::string_view parent, std::string_view name,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> values = {});

// The name of attribute `name` of the object whose pattern is `object`, for
// code that writes or reads it: the schema must declare it (a logic error
// otherwise), so attribute names, like paths, come from the table.
std::string attr(std::string_view object, std::string_view name);

// The entry of the dataset `parent` + "/" + `name` (patterns; a logic error if
// the schema does not declare it): what a reader checks a dataset against.
const Entry& dataset(std::string_view parent, std::string_view name);

// What each shape symbol stands for in one file (or one group of it).
struct Sizes {
  std::uint64_t M = 0;  // models
  std::uint64_t K = 0;  // configurations
  std::uint64_t L = 0;  // levels of a sweep
  std::uint64_t P = 0;  // model pairs (the entry's doc says which)
};

// An entry's shape with its symbols replaced: "[M, M, 2]" -> {M, M, 2}.
std::vector<std::uint64_t> shape(const Entry& e, const Sizes& sizes);

// The table as JSON (python/prh/results_schema.json; prh-schema-json).
std::string to_json();

// Any such table's entries as the JSON list of "entries" (the store's too).
nlohmann::ordered_json entries_json(const std::vector<Entry>& entries);

// path, child, attr and dataset (above) in any declared table (the store's,
// the preparation cache's, a part file's: store_schema.hpp); `what` names it
// in messages.
class Table {
 public:
  using Values = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  Table(std::string_view what, const std::vector<Entry>& entries)
      : what_(what), entries_(entries) {}
  std::string path(std::string_view pattern, Values values) const;
  std::string child(std::string_view parent, std::string_view name, Values values = {}) const;
  std::string attr(std::string_view object, std::string_view name) const;
  const Entry& dataset(std::string_view parent, std::string_view name) const;

 private:
  std::string_view what_;
  const std::vector<Entry>& entries_;
};

// Declaring a table (results_schema.cpp, store_schema.cpp): a group, a
// dataset, an attribute.
namespace declare {
inline constexpr bool req = false;
inline constexpr bool opt = true;
inline Entry G(std::string_view p, bool o, std::string_view doc) {
  return {Kind::group, p, "", "", "", o, doc};
}
inline Entry D(std::string_view p, std::string_view t, std::string_view s, bool o,
               std::string_view doc) {
  return {Kind::dataset, p, "", t, s, o, doc};
}
inline Entry A(std::string_view p, std::string_view a, std::string_view t, std::string_view s,
               bool o, std::string_view doc) {
  return {Kind::attribute, p, a, t, s, o, doc};
}
}  // namespace declare

}  // namespace prh::schema
