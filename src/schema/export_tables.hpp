#pragma once
// The tables `prh export` writes (docs/results.md, "Export"), declared once
// (issue 26): each table's file name and its columns in order. export.cpp
// builds its rows in this order, prh.tables (python/prh/tables.py) builds its
// pandas frames with these columns (it reads them from the JSON that
// prh-schema-json writes, under "tables").

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace prh::schema {

struct ExportTable {
  std::string_view name;  // the file: NAME.csv / NAME.json
  std::vector<std::string_view> columns;
};

// Every table, in the order export writes them.
const std::vector<ExportTable>& export_tables();

// The columns of table `name` (a logic error if it is not declared).
std::vector<std::string> columns(std::string_view name);

// {name: [columns]} for the JSON.
nlohmann::ordered_json export_tables_json();

}  // namespace prh::schema
