#include "lakepipe/parquet/column.h"

#include <arrow/type.h>

namespace lakepipe::parquet {

std::vector<Column> ColumnsOf(const arrow::Schema& schema) {
  std::vector<Column> columns;
  for (const auto& field : schema.fields()) {
    columns.push_back({field->name(), field->type()->ToString(), field->nullable()});
  }
  return columns;
}

nlohmann::json ColumnsToJson(const std::vector<Column>& columns) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : columns) {
    out.push_back({{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}});
  }
  return out;
}

}  // namespace lakepipe::parquet
