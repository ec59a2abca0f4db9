#include "lakepipe/tablestore/table_scan_sql.h"

#include <map>

#include <fmt/format.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/catalog.h"

namespace lakepipe::tablestore {
namespace {

/// DuckDB's name for the Arrow type a partition column had ("" when DuckDB's own guess
/// must do): values in folder names are text, and without a type "007" would read as 7.
std::string HiveType(const std::string& arrow_type) {
  static const std::map<std::string, std::string> kTypes = {
      {"bool", "BOOLEAN"},         {"int8", "TINYINT"},    {"int16", "SMALLINT"},
      {"int32", "INTEGER"},        {"int64", "BIGINT"},    {"uint8", "UTINYINT"},
      {"uint16", "USMALLINT"},     {"uint32", "UINTEGER"}, {"uint64", "UBIGINT"},
      {"float", "FLOAT"},          {"double", "DOUBLE"},   {"string", "VARCHAR"},
      {"large_string", "VARCHAR"}, {"date32[day]", "DATE"}};
  auto it = kTypes.find(arrow_type);
  return it == kTypes.end() ? "" : it->second;
}

std::string RecordedType(const TableRecord& table, const std::string& column) {
  for (const auto& entry : table.schema_json) {
    if (entry.value("name", "") == column) return entry.value("type", "");
  }
  return "";
}

}  // namespace

std::string TableScanSql(const storage::Uri& base, const TableRecord& table) {
  std::string files;
  for (const auto& file : table.files) {
    files += (files.empty() ? "" : ", ") + duckdb::SqlString(DuckDbPath(base.Join(file.path)));
  }
  // An empty partitioned table has one file at the table's root that holds every column
  // in order (and no partition folder to read a value from); files of other tables hold
  // their columns in order too.
  if (table.partition_by.empty() || table.rows == 0) {
    return fmt::format("SELECT * FROM read_parquet([{}], hive_partitioning = false)", files);
  }
  std::string types;
  for (const auto& column : table.partition_by) {
    const std::string type = HiveType(RecordedType(table, column));
    if (type.empty()) continue;
    types += fmt::format("{}{}: {}", types.empty() ? "" : ", ", duckdb::SqlString(column),
                         duckdb::SqlString(type));
  }
  // Partition columns would come last: name every column, in recorded order.
  std::string columns;
  for (const auto& entry : table.schema_json) {
    columns += (columns.empty() ? "" : ", ") + SqlIdentifier(entry.value("name", ""));
  }
  return fmt::format("SELECT {} FROM read_parquet([{}], hive_partitioning = true{})",
                     columns.empty() ? "*" : columns, files,
                     types.empty() ? "" : fmt::format(", hive_types = {{{}}}", types));
}

}  // namespace lakepipe::tablestore
