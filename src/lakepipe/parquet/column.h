#pragma once

#include <string>
#include <vector>

#include <arrow/type_fwd.h>
#include <nlohmann/json.hpp>

namespace lakepipe::parquet {

/// A column of a file or table as lakepipe records it: the lake manifest's `columns`
/// (DataSpoc Lens reads these three fields) and a stored table's `schema_json`.
struct Column {
  std::string name;
  std::string type;  ///< Arrow's spelling: "int64", "timestamp[us, tz=UTC]", ...
  bool nullable = true;

  bool operator==(const Column&) const = default;
};

/// The columns of an Arrow schema.
std::vector<Column> ColumnsOf(const arrow::Schema& schema);

/// [{name, type, nullable}], the shape every persisted column list has.
nlohmann::json ColumnsToJson(const std::vector<Column>& columns);

}  // namespace lakepipe::parquet
