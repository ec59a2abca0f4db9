#include "lakepipe/flow/sql_references.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lakepipe::flow {
namespace {

void CollectBaseTables(const nlohmann::json& node, std::vector<tablestore::TableRef>* out) {
  if (node.is_object()) {
    if (node.value("type", "") == "BASE_TABLE" && node.contains("table_name")) {
      const std::string schema = node.value("schema_name", "");
      const std::string catalog = node.value("catalog_name", "");
      if (!schema.empty()) {
        // "stage.table"; a three-part name (db.stage.table) names another database.
        if (catalog.empty()) out->push_back({schema, node["table_name"].get<std::string>()});
      }
    }
    for (const auto& [key, child] : node.items()) CollectBaseTables(child, out);
  } else if (node.is_array()) {
    for (const auto& child : node) CollectBaseTables(child, out);
  }
}

}  // namespace

arrow::Result<std::vector<tablestore::TableRef>> TableReferences(duckdb::Database& db,
                                                                 const std::string& sql) {
  ARROW_ASSIGN_OR_RAISE(auto result,
                        db.QueryText("SELECT json_serialize_sql(" + duckdb::SqlString(sql) + ")"));
  const auto& text = result.rows.at(0).at(0);
  nlohmann::json tree;
  try {
    tree = nlohmann::json::parse(text.value_or("{}"));
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(fmt::format("cannot read DuckDB's parse tree: {}", e.what()));
  }
  if (tree.value("error", false)) {
    std::string message = tree.value("error_message", "syntax error");
    return arrow::Status::Invalid(fmt::format("SQL: {}", message));
  }
  if (!tree.contains("statements") || tree["statements"].size() != 1) {
    return arrow::Status::Invalid("SQL: a task holds exactly one SELECT statement");
  }
  std::vector<tablestore::TableRef> refs;
  CollectBaseTables(tree["statements"], &refs);
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  return refs;
}

}  // namespace lakepipe::flow
