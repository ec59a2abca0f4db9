#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <arrow/status.h>

#include "lakepipe/tablestore/metadata.h"

namespace lakepipe::tablestore {

/// Locks held by one run: the stages it touches, taken in a fixed (sorted) order after a
/// setup lock, so two runs never deadlock. Released when destroyed.
class StageLocks {
 public:
  virtual ~StageLocks() = default;
  /// OK while every lock is still held; an error (e.g. the PostgreSQL connection holding
  /// advisory locks was lost) means the run must stop before writing anything more.
  virtual arrow::Status Validate() = 0;
};

/// What DropStage removed: row counts of each table.
struct DroppedStage {
  int64_t stages = 0;  ///< 1 when the stage had committed, else 0
  int64_t tasks = 0;
  int64_t tables = 0;
};

/// Where the table store keeps its metadata (TABLESTORE.md §5): the committed slot of each
/// stage, the tasks and tables of each slot, and the runs. Implementations: an embedded
/// SQLite file with OS file locks, and PostgreSQL with advisory locks (team mode).
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  /// Takes the locks of `stages` of `instance` (waiting for other runs), in a fixed order.
  virtual arrow::Result<std::unique_ptr<StageLocks>> Lock(const std::string& instance,
                                                          std::vector<std::string> stages) = 0;

  /// Everything recorded for `instance`.
  virtual arrow::Result<MetadataSnapshot> Load(const std::string& instance) = 0;

  /// Writes the stage's committed slot with its tasks and tables in one transaction.
  virtual arrow::Status CommitStage(const StageCommit& commit) = 0;

  /// Removes every record of `stage` of `instance` (its stages row and the tasks and
  /// tables rows of both slots) in one transaction: afterwards the stage is as if it never
  /// committed, and its files are garbage for `flow gc`. Runs are kept. The caller holds
  /// the stage's lock.
  virtual arrow::Result<DroppedStage> DropStage(const std::string& instance,
                                                const std::string& stage) = 0;

  /// Inserts or updates a run.
  virtual arrow::Status SaveRun(const RunRecord& run) = 0;

  /// "embedded (/path/shop.meta.sqlite)" or "postgresql://host:5432/db" (no password).
  virtual std::string Describe() const = 0;
};

/// Opens the metadata store named by a flow's `metadata:` value: "embedded" (a SQLite file
/// at `embedded_path`, locks as files under `lock_dir`) or a postgresql:// URL.
arrow::Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& metadata,
                                                                const std::string& embedded_path,
                                                                const std::string& lock_dir);

}  // namespace lakepipe::tablestore
