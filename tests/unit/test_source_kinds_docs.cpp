// docs/config.md's table of image sources ("Image sources") against the
// declaration the readers use (include/prh/config/source_kinds.hpp): every
// kind has a row, every declared key is named in it and nothing else is,
// and a default the row states is the declared one.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "prh/config/source_kinds.hpp"

namespace {

// kind -> the row's "keys (defaults)" cell.
std::map<std::string, std::string> doc_rows() {
  std::ifstream in(std::string(PRH_DOCS_DIR) + "/config.md");
  EXPECT_TRUE(in.good()) << PRH_DOCS_DIR "/config.md";
  std::map<std::string, std::string> rows;
  std::string line;
  bool in_section = false;
  const std::regex row(R"(^\| `([a-z_0-9]+)` \| (.*?) \| .*\|$)");
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line.rfind("## Image sources", 0) == 0;
    std::smatch m;
    if (in_section && std::regex_match(line, m, row)) rows[m[1]] = m[2];
  }
  return rows;
}

TEST(SourceKindsDocs, EveryKindHasARowAndNoRowIsUndeclared) {
  const auto rows = doc_rows();
  std::set<std::string> declared;
  for (const auto& k : prh::config::source_kinds()) {
    declared.insert(k.name);
    EXPECT_TRUE(rows.count(k.name)) << "docs/config.md has no row for source kind " << k.name;
  }
  for (const auto& [name, cell] : rows)
    EXPECT_TRUE(declared.count(name)) << "docs/config.md documents an undeclared kind " << name;
}

TEST(SourceKindsDocs, EveryRowNamesExactlyTheDeclaredKeys) {
  const auto rows = doc_rows();
  const std::regex key("`([a-z_]+)`");
  for (const auto& k : prh::config::source_kinds()) {
    const auto it = rows.find(k.name);
    if (it == rows.end()) continue;
    std::set<std::string> named;
    for (std::sregex_iterator m(it->second.begin(), it->second.end(), key), e; m != e; ++m)
      named.insert((*m)[1]);
    std::set<std::string> keys;
    for (const auto& f : k.fields) keys.insert(f.key);
    for (const auto& f : keys)
      EXPECT_TRUE(named.count(f)) << k.name << ": declared key '" << f << "' is not in the docs";
    for (const auto& n : named)
      EXPECT_TRUE(keys.count(n)) << k.name << ": docs name key '" << n << "', not declared";
  }
}

TEST(SourceKindsDocs, StatedDefaultsAreTheDeclaredOnes) {
  const auto rows = doc_rows();
  // `key` (VALUE...: a number, or a word for text fields.
  const std::regex stated("`([a-z_]+)` \\(([-0-9.]+|[a-z]+)");
  int compared = 0;
  for (const auto& k : prh::config::source_kinds()) {
    const auto it = rows.find(k.name);
    if (it == rows.end()) continue;
    for (std::sregex_iterator m(it->second.begin(), it->second.end(), stated), e; m != e; ++m) {
      const std::string name = (*m)[1], value = (*m)[2];
      if (value == "required" || value == "a") continue;  // "(required)", "(a source, ...)"
      const auto& f = k.field(name);
      using prh::config::FieldType;
      if (f.type == FieldType::kInteger) {
        EXPECT_EQ(std::strtoll(value.c_str(), nullptr, 10), f.int_default) << k.name << "." << name;
      } else if (f.type == FieldType::kNumber) {
        EXPECT_DOUBLE_EQ(std::strtod(value.c_str(), nullptr), f.num_default)
            << k.name << "." << name;
      } else if (f.type == FieldType::kString) {
        EXPECT_EQ(value, f.text_default) << k.name << "." << name;
      } else {
        continue;
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 10) << "the defaults in docs/config.md were not found";
}

}  // namespace
