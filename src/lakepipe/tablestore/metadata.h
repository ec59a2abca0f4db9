#pragma once

// The table store's metadata records (TABLESTORE.md §5). One shape for both metadata
// stores (embedded SQLite file, PostgreSQL) and for the copy kept in the catalog.

#include <cstdint>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

namespace lakepipe::tablestore {

/// One Parquet file of a table. `path` is relative to the store's base URI, so a store
/// moved or mirrored keeps its metadata.
struct TableFile {
  std::string path;
  int64_t rows = 0;
  int64_t bytes = 0;
  /// sha256 (hex) of the file's bytes for files lakepipe writes; for files copied from an
  /// ingest bucket, of their source URI and size (those files are immutable: file numbers
  /// are never reused), so no byte is read again to fingerprint them.
  std::string checksum;
};

/// A table as written into one slot of a stage.
struct TableRecord {
  std::string instance;
  std::string stage;
  std::string slot;  ///< "odd" | "even"
  std::string table;
  std::vector<TableFile> files;
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

nlohmann::json ToJson(const TableFile& file);
arrow::Result<TableFile> TableFileFromJson(const nlohmann::json& json);
/// Files as a JSON array (the files_json column).
nlohmann::json FilesToJson(const std::vector<TableFile>& files);
arrow::Result<std::vector<TableFile>> FilesFromJson(const nlohmann::json& json);

/// sha256 (hex) over each file's checksum and size, in the given order.
std::string ContentHash(const std::vector<TableFile>& files);

}  // namespace lakepipe::tablestore
