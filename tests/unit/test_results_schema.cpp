// The results schema (src/schema/results_schema.hpp, issue 26): paths are built
// from declared patterns only, and the table is well formed.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "export_tables.hpp"
#include "results_schema.hpp"
#include "store_schema.hpp"

namespace schema = prh::schema;

TEST(ResultsSchema, PathsFromPatterns) {
  EXPECT_EQ(schema::path(schema::kScores, {{"set", "id"}, {"config", "mutual_knn@k=10"}}),
            "/alignment/id/mutual_knn@k=10/scores");
  EXPECT_EQ(schema::path(schema::kSweep, {{"sweep", "fade"}}), "/sweeps/fade");
  EXPECT_EQ(schema::child(schema::kCorrelationSet, "{method}_null_p", {{"method", "spearman"}}),
            "spearman_null_p");
  EXPECT_EQ(schema::child(schema::kSweep, "mean_prob"), "mean_prob");
}

TEST(ResultsSchema, UndeclaredPathsAreLogicErrors) {
  EXPECT_THROW(schema::path("/alignment/{set}/{config}/score", {{"set", "a"}, {"config", "b"}}),
               std::logic_error);
  EXPECT_THROW(schema::child(schema::kSweep, "correlation_breaking_levels"), std::logic_error);
  EXPECT_THROW(schema::path(schema::kScores, {{"set", "id"}}), std::logic_error);  // no {config}
}

namespace {

// Every entry of `table` is well formed: a path of declared symbols, one
// declaration per object, a doc line, a known dtype and a shape of `shape`,
// attributes of declared objects, every parent a declared group.
void well_formed(const std::vector<schema::Entry>& table, const std::set<std::string>& symbols,
                 const std::regex& shape) {
  const std::regex symbol(R"(\{(\w+)\})");
  const std::set<std::string> dtypes = {"float64", "float32", "int64", "int32",
                                        "uint8",   "string",  "json"};
  std::set<std::string> objects, keys;
  for (const auto& e : table)
    if (e.kind != schema::Kind::attribute) objects.emplace(e.path);
  for (const auto& e : table) {
    const std::string p(e.path);
    SCOPED_TRACE(p + "@" + std::string(e.attribute));
    EXPECT_EQ(p.front(), '/');
    EXPECT_TRUE(keys.emplace(p + "@" + std::string(e.attribute)).second) << "declared twice";
    EXPECT_FALSE(e.doc.empty());
    for (std::sregex_iterator it(p.begin(), p.end(), symbol), end; it != end; ++it)
      EXPECT_TRUE(symbols.count((*it)[1])) << (*it)[1];
    if (e.kind == schema::Kind::group) {
      EXPECT_TRUE(e.dtype.empty() && e.shape.empty());
    } else {
      EXPECT_TRUE(dtypes.count(std::string(e.dtype))) << e.dtype;
      EXPECT_TRUE(std::regex_match(std::string(e.shape), shape)) << e.shape;
    }
    if (e.kind == schema::Kind::attribute) {
      EXPECT_FALSE(e.attribute.empty());
      EXPECT_TRUE(objects.count(p)) << "attribute of an undeclared object";
    }
    if (p != "/") {  // every object's parent is a declared group
      const auto parent = p.substr(0, p.rfind('/'));
      EXPECT_TRUE(parent.empty() || objects.count(parent)) << parent;
    }
  }
}

}  // namespace

TEST(ResultsSchema, TableIsWellFormed) {
  well_formed(schema::entries(), {"set", "config", "method", "sweep", "factor", "set_a", "set_b"},
              // Lmax and G: the layer axis (/layers, /layer_profile)
              std::regex(R"(^(\[(Lmax|G|[MKLP]|2)(, (Lmax|G|[MKLP]|2))*\])?$)"));
  for (const auto& e : schema::entries()) {
    EXPECT_EQ(schema::find(e.path, e.attribute), &e);
    EXPECT_NE(e.dtype, "float32") << e.path << ": the results file stores float64";
  }
}

TEST(StoreSchema, TablesAreWellFormed) {
  well_formed(schema::store_entries(), {"set", "model"},
              std::regex(R"(^(\[(N|L|Dmax|shards)(, (N|L|Dmax))*\])?$)"));
  well_formed(schema::prep_entries(), {"unit", "dim"},
              std::regex(R"(^(\[(N|D|k|U|512)(, (D|k|dim))*\])?$)"));
  well_formed(schema::part_entries(), {}, std::regex(R"(^(\[rows(, (L|Dmax))*\])?$)"));
  const auto j = nlohmann::json::parse(schema::store_to_json());
  EXPECT_EQ(j["store"]["entries"].size(), schema::store_entries().size());
  EXPECT_EQ(j["part"]["entries"].size(), schema::part_entries().size());
  EXPECT_EQ(j["prep"]["entries"].size(), schema::prep_entries().size());
}

// The store's writers and readers take their names from its tables (issue 26).
TEST(StoreSchema, NamesComeFromTheTables) {
  EXPECT_EQ(schema::store().path(schema::kStoreItem, {{"set", "id"}, {"model", "m"}}),
            "/sets/id/models/m");
  EXPECT_EQ(schema::store().child(schema::kStoreItem, "done"), "done");
  EXPECT_EQ(schema::store().attr(schema::kStoreSet, "view_of"), "view_of");
  EXPECT_EQ(schema::store().dataset(schema::kStoreSet, "rows").dtype, "int64");
  EXPECT_EQ(schema::part().attr(schema::kPartRoot, "item"), "item");
  EXPECT_EQ(schema::part().child(schema::kPartRoot, "features"), "features");
  EXPECT_EQ(schema::prep().path(schema::kPrepUnit, {{"unit", "3"}}), "/units/3");
  EXPECT_EQ(schema::prep().child(schema::kPrepUnit, "svcca_{dim}", {{"dim", "4"}}), "svcca_4");
  EXPECT_EQ(schema::prep().child(schema::kPrepRoot, "done"), "done");
  EXPECT_THROW(schema::store().child(schema::kStoreItem, "top5"), std::logic_error);
  EXPECT_THROW(schema::store().attr(schema::kStoreSet, "rows"), std::logic_error);  // a dataset
  EXPECT_THROW(schema::part().child(schema::kPartRoot, "done"), std::logic_error);  // the store's
  EXPECT_THROW(schema::prep().attr(schema::kPrepRoot, "complete"), std::logic_error);
  EXPECT_THROW(schema::store().path(schema::kStoreItem, {{"set", "id"}}), std::logic_error);
}

TEST(ResultsSchema, AttributesAreDeclared) {
  EXPECT_EQ(schema::attr(schema::kRoot, "format"), "format");
  EXPECT_EQ(schema::attr(schema::kAlignmentConfig, "sigma"), "sigma");
  EXPECT_EQ(schema::attr(schema::kModels, "layer_counts"), "layer_counts");
  EXPECT_THROW(schema::attr(schema::kRoot, "correlation_breaking_level"), std::logic_error);
  EXPECT_THROW(schema::attr(schema::kSweep, "levels"), std::logic_error);  // a dataset
  EXPECT_THROW(schema::attr("/nowhere", "format"), std::logic_error);
  EXPECT_EQ(schema::child(schema::kRoot, "models"), "models");
}

TEST(ResultsSchema, ShapesFromSymbols) {
  const schema::Sizes sz{5, 3, 4, 15};
  EXPECT_EQ(schema::shape(schema::dataset(schema::kAlignmentConfig, "layers"), sz),
            (std::vector<std::uint64_t>{5, 5, 2}));
  EXPECT_EQ(schema::shape(schema::dataset(schema::kAlignmentConfig, "done"), sz),
            (std::vector<std::uint64_t>{15}));
  EXPECT_EQ(schema::shape(schema::dataset(schema::kSweep, "{method}_ci_low"), sz),
            (std::vector<std::uint64_t>{4, 3, 3}));
  EXPECT_EQ(schema::dataset(schema::kCorrelationSet, "{method}_n").dtype, "int64");
  EXPECT_THROW(schema::dataset(schema::kSweep, "correlation_breaking_levels"), std::logic_error);
  EXPECT_THROW(schema::dataset(schema::kAlignment, "{set}"), std::logic_error);  // a group
}

TEST(ExportTables, DeclaredOnceAndInTheJson) {
  EXPECT_EQ(schema::columns("predictions"),
            (std::vector<std::string>{"set", "model", "accuracy", "mean_prob", "mean_prob_wrong"}));
  EXPECT_THROW(schema::columns("nope"), std::logic_error);
  const auto j = nlohmann::json::parse(schema::to_json());
  ASSERT_TRUE(j.contains("tables"));
  for (const auto& t : schema::export_tables()) {
    SCOPED_TRACE(std::string(t.name));
    ASSERT_TRUE(j["tables"].contains(std::string(t.name)));
    EXPECT_EQ(j["tables"][std::string(t.name)].size(), t.columns.size());
    std::set<std::string_view> unique(t.columns.begin(), t.columns.end());
    EXPECT_EQ(unique.size(), t.columns.size()) << "a column twice";
  }
}
