#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/parquet/data_file_meta.h"

namespace lakepipe::lake {

/// One table of the manifest. The fields DataSpoc Lens reads (source, table, location,
/// stats.*, columns) keep their names; lakepipe adds `files` (the exact committed file
/// list: readers that want a consistent snapshot read these, not a glob), `pipeline`,
/// `mode` and `next_file_number` (file numbers are never reused).
struct TableEntry {
  std::string source;
  std::string table;
  std::string location;
  std::string pipeline;
  std::string mode;  ///< "full" or "incremental"
  int64_t total_rows = 0;
  int64_t extractions = 0;
  std::string last_extraction;  ///< ISO-8601 UTC
  int64_t last_extraction_rows = 0;
  int64_t next_file_number = 0;
  /// What identifies a row (Singer key_properties) and the column that orders versions of
  /// it, when the source said: readers take a row's latest version by these. Empty: unknown.
  std::vector<std::string> key_properties;
  std::string replication_key;
  std::vector<parquet::Column> columns;
  /// The committed Parquet files, paths relative to the bucket. The manifest keeps each
  /// file's path, rows, bytes and its `columns` when they differ from the table's; no
  /// checksum.
  std::vector<parquet::DataFileMeta> files;

  std::string Key() const { return source + "/" + table; }
  nlohmann::json ToJson() const;
  /// `where` names the document for errors.
  static arrow::Result<TableEntry> FromJson(const nlohmann::json& json, const std::string& where);
};

/// Sets `entry->columns` to the union of its files' columns, in order of first appearance
/// (a column that some file lacks is nullable; a column's type is its newest file's), and
/// keeps `columns` on just the files that differ from that union. A file without columns
/// has `columns_before` (the entry's columns before this run's files were added). With no
/// files, `empty_table` (the stream's schema) is the table's columns.
void UnifyColumns(TableEntry* entry, const std::vector<parquet::Column>& columns_before,
                  const std::vector<parquet::Column>& empty_table);

}  // namespace lakepipe::lake
