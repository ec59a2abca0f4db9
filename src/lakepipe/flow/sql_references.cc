#include "lakepipe/flow/sql_references.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

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

/// Table functions whose first argument names the files they read.
bool ReadsFiles(std::string name) {
  static const std::set<std::string> kFunctions = {
      "read_csv",    "read_csv_auto",    "read_parquet",        "parquet_scan",
      "read_json",   "read_json_auto",   "read_json_objects",   "read_json_objects_auto",
      "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_text",
      "read_blob"};
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return kFunctions.contains(name);
}

/// Names DuckDB reads as a file in FROM (its replacement scans).
bool LooksLikeAFile(const std::string& name) {
  static const char* const kSuffixes[] = {
      ".csv",    ".tsv",     ".parquet",  ".json",      ".jsonl",   ".ndjson",   ".csv.gz",
      ".tsv.gz", ".json.gz", ".jsonl.gz", ".ndjson.gz", ".csv.zst", ".jsonl.zst"};
  for (const char* suffix : kSuffixes) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

std::optional<size_t> Location(const nlohmann::json& node) {
  auto it = node.find("query_location");
  if (it == node.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<size_t>();
}

/// A VARCHAR constant's value and location.
void AddConstant(const nlohmann::json& node, std::vector<SqlFileReference>* out) {
  if (StringMember(node, "class") != "CONSTANT") return;
  const auto value = node.find("value");
  if (value == node.end() || !value->is_object() || value->value("is_null", true)) return;
  const auto text = value->find("value");
  const auto location = Location(node);
  if (text == value->end() || !text->is_string() || !location) return;
  out->push_back({text->get<std::string>(), *location});
}

void CollectFiles(const nlohmann::json& node, std::vector<SqlFileReference>* out) {
  if (node.is_object()) {
    const std::string type = StringMember(node, "type");
    if (type == "TABLE_FUNCTION" && node.contains("function")) {
      const auto& function = node["function"];
      const auto children = function.find("children");
      if (ReadsFiles(StringMember(function, "function_name")) && children != function.end() &&
          children->is_array() && !children->empty()) {
        const auto& first = (*children)[0];
        if (StringMember(first, "function_name") == "list_value" && first.contains("children")) {
          for (const auto& item : first["children"]) AddConstant(item, out);
        } else {
          AddConstant(first, out);
        }
      }
    } else if (type == "BASE_TABLE" && StringMember(node, "schema_name").empty() &&
               StringMember(node, "catalog_name").empty() &&
               LooksLikeAFile(StringMember(node, "table_name")) && Location(node)) {
      out->push_back({StringMember(node, "table_name"), *Location(node)});
    }
    for (const auto& [key, child] : node.items()) CollectFiles(child, out);
  } else if (node.is_array()) {
    for (const auto& child : node) CollectFiles(child, out);
  }
}

bool IsRelativeLocalPath(const std::string& path) {
  return path.find("://") == std::string::npos && !path.starts_with("/") && !path.starts_with("~");
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

/// DuckDB's parse tree of `sql`'s single statement.
arrow::Result<nlohmann::json> ParseStatement(duckdb::Database& db, const std::string& sql) {
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
  return tree["statements"];
}

}  // namespace

arrow::Result<std::vector<tablestore::TableRef>> TableReferences(duckdb::Database& db,
                                                                 const std::string& sql) {
  ARROW_ASSIGN_OR_RAISE(auto statements, ParseStatement(db, sql));
  std::vector<tablestore::TableRef> refs;
  CollectBaseTables(statements, &refs);
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  return refs;
}

arrow::Result<std::vector<SqlFileReference>> FileReferences(duckdb::Database& db,
                                                            const std::string& sql) {
  ARROW_ASSIGN_OR_RAISE(auto statements, ParseStatement(db, sql));
  std::vector<SqlFileReference> files;
  CollectFiles(statements, &files);
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.offset < b.offset; });
  return files;
}

std::string ResolveSqlFile(const std::string& path, const std::string& dir) {
  if (path.starts_with("~/")) {
    // DuckDB expands it so too.
    const char* home = std::getenv("HOME");
    return home ? (std::filesystem::path(home) / path.substr(2)).string() : path;
  }
  if (!IsRelativeLocalPath(path)) return path;
  std::error_code ec;
  return (std::filesystem::absolute(dir, ec) / path).lexically_normal().string();
}

arrow::Result<std::string> SqlWithResolvedFiles(const std::string& sql,
                                                const std::vector<SqlFileReference>& files,
                                                const std::string& dir) {
  std::string out;
  size_t done = 0;
  for (const auto& file : files) {
    if (!IsRelativeLocalPath(file.path) || file.offset < done || file.offset >= sql.size()) {
      continue;
    }
    const char quote = sql[file.offset];
    size_t end = std::string::npos;
    if (quote == '\'' || quote == '"') {
      // The literal ends at the first quote that is not doubled.
      for (size_t i = file.offset + 1; i < sql.size(); ++i) {
        if (sql[i] != quote) continue;
        if (i + 1 < sql.size() && sql[i + 1] == quote) {
          ++i;
          continue;
        }
        end = i + 1;
        break;
      }
    }
    if (end == std::string::npos) {
      return arrow::Status::Invalid(fmt::format(
          "SQL ({}): write the relative path '{}' as a '...' string, or make it absolute",
          PositionIn(sql, file.offset), file.path));
    }
    out += sql.substr(done, file.offset - done);
    out += duckdb::SqlString(ResolveSqlFile(file.path, dir));
    done = end;
  }
  return out + sql.substr(done);
}

arrow::Result<std::vector<SqlFileReference>> FileReferenceCache::Get(const std::string& sql) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(sql);
  if (it != files_.end()) return it->second;
  if (!parser_) {
    ARROW_ASSIGN_OR_RAISE(parser_, duckdb::Database::Open({}));
  }
  ARROW_ASSIGN_OR_RAISE(auto files, FileReferences(*parser_, sql));
  return files_.emplace(sql, std::move(files)).first->second;
}

}  // namespace lakepipe::flow
