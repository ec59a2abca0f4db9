#include "lakepipe/flow/sql_references.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lakepipe::flow {
namespace {

std::string StringMember(const nlohmann::json& node, const char* key) {
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void CollectBaseTables(const nlohmann::json& node, std::vector<tablestore::TableRef>* out) {
  if (node.is_object()) {
    if (StringMember(node, "type") == "BASE_TABLE") {
      const std::string schema = StringMember(node, "schema_name");
      const std::string table = StringMember(node, "table_name");
      // "stage.table"; a CTE has no schema; a three-part name names another database.
      if (!schema.empty() && !table.empty() && StringMember(node, "catalog_name").empty()) {
        out->push_back({schema, table});
      }
    }
    for (const auto& [key, child] : node.items()) CollectBaseTables(child, out);
  } else if (node.is_array()) {
    for (const auto& child : node) CollectBaseTables(child, out);
  }
}

/// "line L, column C" of byte `offset` in `sql`.
std::string PositionIn(const std::string& sql, size_t offset) {
  offset = std::min(offset, sql.size());
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (sql[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("line {}, column {}", line, column);
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
  if (tree.contains("error") && tree["error"].is_boolean() && tree["error"].get<bool>()) {
    std::string message = StringMember(tree, "error_message");
    const std::string position = StringMember(tree, "position");
    size_t offset = 0;
    const auto [end, ec] =
        std::from_chars(position.data(), position.data() + position.size(), offset);
    if (!position.empty() && ec == std::errc() && end == position.data() + position.size()) {
      message += fmt::format(" (SQL {})", PositionIn(sql, offset));
    }
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
