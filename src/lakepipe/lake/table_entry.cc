#include "lakepipe/lake/table_entry.h"

#include <algorithm>

#include <fmt/format.h>

namespace lakepipe::lake {

using parquet::Column;

namespace {

std::vector<Column> ColumnsFromJson(const nlohmann::json& json) {
  std::vector<Column> columns;
  for (const auto& c : json) {
    columns.push_back({c.at("name").get<std::string>(), c.at("type").get<std::string>(),
                       c.value("nullable", true)});
  }
  return columns;
}

}  // namespace

nlohmann::json TableEntry::ToJson() const {
  nlohmann::json cols = parquet::ColumnsToJson(columns);
  nlohmann::json file_list = nlohmann::json::array();
  for (const auto& f : files) {
    nlohmann::json file = {{"path", f.path}, {"rows", f.rows}, {"bytes", f.bytes}};
    if (!f.columns.empty()) file["columns"] = parquet::ColumnsToJson(f.columns);
    file_list.push_back(std::move(file));
  }
  nlohmann::json out = {{"source", source},
                        {"table", table},
                        {"location", location},
                        {"pipeline", pipeline},
                        {"mode", mode},
                        {"stats",
                         {{"total_rows", total_rows},
                          {"extractions", extractions},
                          {"last_extraction", last_extraction},
                          {"last_extraction_rows", last_extraction_rows}}},
                        {"columns", cols},
                        {"files", file_list},
                        {"next_file_number", next_file_number}};
  if (!key_properties.empty()) out["key_properties"] = key_properties;
  if (!replication_key.empty()) out["replication_key"] = replication_key;
  return out;
}

arrow::Result<TableEntry> TableEntry::FromJson(const nlohmann::json& json,
                                               const std::string& where) {
  try {
    TableEntry e;
    e.source = json.at("source").get<std::string>();
    e.table = json.at("table").get<std::string>();
    e.location = json.value("location", "");
    e.pipeline = json.value("pipeline", "");
    e.mode = json.value("mode", "");
    const auto& stats = json.at("stats");
    e.total_rows = stats.value("total_rows", int64_t{0});
    e.extractions = stats.value("extractions", int64_t{0});
    e.last_extraction = stats.value("last_extraction", "");
    e.last_extraction_rows = stats.value("last_extraction_rows", int64_t{0});
    e.next_file_number = json.value("next_file_number", int64_t{0});
    e.key_properties = json.value("key_properties", std::vector<std::string>{});
    e.replication_key = json.value("replication_key", "");
    e.columns = ColumnsFromJson(json.value("columns", nlohmann::json::array()));
    for (const auto& f : json.value("files", nlohmann::json::array())) {
      parquet::DataFileMeta file;
      file.path = f.at("path").get<std::string>();
      file.rows = f.value("rows", int64_t{0});
      file.bytes = f.value("bytes", int64_t{0});
      file.columns = ColumnsFromJson(f.value("columns", nlohmann::json::array()));
      e.files.push_back(std::move(file));
    }
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return arrow::Status::Invalid(fmt::format("{}: malformed table entry: {}", where, ex.what()));
  }
}

void UnifyColumns(TableEntry* entry, const std::vector<Column>& columns_before,
                  const std::vector<Column>& empty_table) {
  if (entry->files.empty()) {
    entry->columns = empty_table;
    return;
  }
  std::vector<Column> all;
  for (auto& file : entry->files) {
    if (file.columns.empty()) file.columns = columns_before;
    for (auto& column : all) {
      const bool present = std::any_of(file.columns.begin(), file.columns.end(),
                                       [&](const Column& c) { return c.name == column.name; });
      if (!present) column.nullable = true;
    }
    for (const auto& column : file.columns) {
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const Column& c) { return c.name == column.name; });
      if (it == all.end()) {
        // Files before this one lack it.
        all.push_back({column.name, column.type, column.nullable || &file != &entry->files[0]});
      } else {
        it->type = column.type;
        it->nullable = it->nullable || column.nullable;
      }
    }
  }
  for (auto& file : entry->files) {
    if (file.columns == all) file.columns.clear();
  }
  entry->columns = std::move(all);
}

}  // namespace lakepipe::lake
