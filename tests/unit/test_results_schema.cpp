// The results schema (src/schema/results_schema.hpp, issue 26): paths are built
// from declared patterns only, and the table is well formed.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <stdexcept>
#include <string>

#include "results_schema.hpp"

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

TEST(ResultsSchema, TableIsWellFormed) {
  const std::set<std::string> symbols = {"set",    "config", "method", "sweep",
                                         "factor", "set_a",  "set_b"};
  // Lmax and G: the layer axis (/layers, /layer_profile)
  const std::regex shape(R"(^(\[(Lmax|G|[MKLP]|2)(, (Lmax|G|[MKLP]|2))*\])?$)");
  const std::regex symbol(R"(\{(\w+)\})");
  const std::set<std::string> dtypes = {"float64", "int64", "int32", "uint8", "string", "json"};
  std::set<std::string> objects, keys;
  for (const auto& e : schema::entries())
    if (e.kind != schema::Kind::attribute) objects.emplace(e.path);
  for (const auto& e : schema::entries()) {
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
    EXPECT_EQ(schema::find(e.path, e.attribute), &e);
  }
}
