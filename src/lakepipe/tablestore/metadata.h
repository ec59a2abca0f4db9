#pragma once

// The table store's metadata records (TABLESTORE.md §5). One shape for both metadata
// stores (embedded SQLite file, PostgreSQL) and for the copy kept in the catalog.

#include <cstdint>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/parquet/data_file_meta.h"

namespace lakepipe::tablestore {

/// A table as written into one slot of a stage.
struct TableRecord {
  std::string instance;
  std::string stage;
  std::string slot;  ///< "odd" | "even"
  std::string table;
  /// Paths relative to the store's base URI; no file's columns.
  std::vector<parquet::DataFileMeta> files;
  int64_t rows = 0;
  int64_t bytes = 0;
  /// [{name, type, nullable}], for people and status output (the files hold the schema).
  nlohmann::json schema_json = nlohmann::json::array();
  /// Hive partition columns, in path order ("" none).
  std::vector<std::string> partition_by;
  /// sha256 over the files' checksums and sizes in path order: equal content, equal hash.
  std::string content_hash;
};

/// A task of a stage as a run left it in one slot.
struct TaskRecord {
  std::string instance;
  std::string stage;
  std::string task;
  std::string cache_key;
  std::string version = "0";  ///< the task's `version:` as written ("1.0.0", "2")
  std::string run_id;
  std::string slot;
  /// {"table": name, "cache_hit": bool, "seconds": x}
  nlohmann::json output_json = nlohmann::json::object();
};

/// The committed slot of a stage.
struct StageRecord {
  std::string instance;
  std::string stage;
  std::string committed_slot;  ///< "odd" | "even"
  std::string run_id;
  std::string committed_at;  ///< ISO-8601 UTC
};

struct RunRecord {
  std::string run_id;
  std::string instance;
  std::string flow;
  std::string started_at;
  std::string finished_at;         ///< "" while running
  std::string status = "running";  ///< running | succeeded | failed | cancelled | abandoned
  std::string error;
};

/// Everything the stores know about one instance.
struct MetadataSnapshot {
  std::vector<StageRecord> stages;
  std::vector<TaskRecord> tasks;
  std::vector<TableRecord> tables;
  std::vector<RunRecord> runs;

  const StageRecord* FindStage(const std::string& stage) const;
  /// Tables of `stage` in `slot`, in table-name order.
  std::vector<const TableRecord*> TablesIn(const std::string& stage, const std::string& slot) const;
  const TableRecord* FindTable(const std::string& stage, const std::string& slot,
                               const std::string& table) const;
  const TaskRecord* FindTask(const std::string& stage, const std::string& slot,
                             const std::string& task) const;
};

/// What commit stage writes in one transaction: the stage's new committed slot, and the
/// tasks and tables of that slot (replacing the rows the slot held before).
struct StageCommit {
  StageRecord stage;
  std::vector<TaskRecord> tasks;
  std::vector<TableRecord> tables;
};

/// The other slot: "odd" ↔ "even"; "" (never committed) → "odd".
std::string OtherSlot(const std::string& slot);

/// Files as a JSON array (the files_json column): [{path, rows, bytes, sha256}], the
/// checksum under its persisted key "sha256".
nlohmann::json FilesToJson(const std::vector<parquet::DataFileMeta>& files);
arrow::Result<std::vector<parquet::DataFileMeta>> FilesFromJson(const nlohmann::json& json);

/// sha256 (hex) over each file's checksum and size, in the given order.
std::string ContentHash(const std::vector<parquet::DataFileMeta>& files);

}  // namespace lakepipe::tablestore
