#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/table.h>

#include "lakepipe/storage/storage.h"
#include "lakepipe/tablestore/catalog.h"
#include "lakepipe/tablestore/metadata_store.h"
#include "lakepipe/tablestore/table_writer.h"

namespace lakepipe::duckdb {
class Database;
}

namespace lakepipe::tablestore {

struct TableStoreOptions {
  std::string base;  ///< any storage URI: ./dir, s3://, gs://, az://
  std::string instance = "default";
  std::string catalog_path;           ///< local DuckDB file of views
  std::string metadata = "embedded";  ///< or postgresql://…
  std::string flow;                   ///< the flow's name: its own folder and records
  TableOptions table_defaults;
  /// How long files a commit replaced stay readable for connections opened before it
  /// (slot_retention.h); begin stage and gc delete them after that.
  std::chrono::seconds keep_replaced_for{std::chrono::seconds(900)};
};

/// A reference to a table: `stage.table`.
struct TableRef {
  std::string stage;
  std::string table;
  std::string ToString() const { return stage + "." + table; }
  auto operator<=>(const TableRef&) const = default;
};

class StageTransaction;

/// Stage-transactional Parquet tables on any bucket (TABLESTORE.md §2–§5). Tables live
/// under <base>/<instance>/<flow>/<stage>__<slot>/<table>/ (each name one encoded path
/// segment, lake/path_segment.h), so flows and instances sharing a base never touch each
/// other's files; each stage has two slots, "odd" and "even"; a run writes the slot that
/// is not committed and commits by recording the new slot in the metadata store, then
/// republishes the catalog. Thread-safe.
class TableStore {
 public:
  static arrow::Result<std::unique_ptr<TableStore>> Open(TableStoreOptions options,
                                                         storage::StorageOptions storage_options);
  ~TableStore();

  const TableStoreOptions& options() const { return options_; }
  storage::Storage& storage() { return *storage_; }
  const storage::Uri& base() const { return base_; }
  MetadataStore& metadata() { return *metadata_; }

  /// Everything the metadata store holds for this instance.
  arrow::Result<MetadataSnapshot> Load();
  /// Takes the locks of `stages` (waiting for other runs).
  arrow::Result<std::unique_ptr<StageLocks>> Lock(std::vector<std::string> stages);

  /// Starts a transaction on `stage`: picks the slot that is not committed and empties it
  /// of everything but the files of the generation it last held while they are within
  /// keep_replaced_for of their replacement. `locks` must hold the stage's lock and outlive
  /// the transaction.
  arrow::Result<std::unique_ptr<StageTransaction>> BeginStage(const std::string& stage,
                                                              const std::string& run_id,
                                                              StageLocks* locks);

  /// Rebuilds the catalog file from the metadata store.
  arrow::Status PublishCatalog();
  /// Builds (without publishing) the catalog of the metadata store's content as it will be
  /// once `commit` and `finished_run` are written; the result holds the publish lock until
  /// it is published or destroyed. Fails, writing nothing, when the catalog cannot be built
  /// or belongs to another flow or instance.
  arrow::Result<std::unique_ptr<CatalogPublication>> BuildCatalogWith(
      const StageCommit& commit, const RunRecord* finished_run);
  /// Rebuilds it only when its stages (slot, run) differ from the metadata store's, as
  /// after a crash between a stage's commit and its catalog: a run calls this before it
  /// empties any slot, so the published catalog never points at files about to go. Fails
  /// when the catalog belongs to another flow or instance (see CheckCatalogOwner).
  arrow::Status PublishCatalogIfStale();

  /// A committed table, streamed.
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> ReadTable(const TableRef& ref);
  /// The rows of `record`'s files, streamed.
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> ReadFiles(const TableRecord& record);

  /// A DuckDB session with the store's storage settings and, for each of `tables`, a view
  /// "<stage>"."<table>" over its files.
  arrow::Result<std::unique_ptr<duckdb::Database>> OpenSqlSession(
      const std::vector<std::pair<TableRef, const TableRecord*>>& tables);

  /// Deletes every file under the flow's folder <base>/<instance>/<flow>/ that no committed
  /// slot references and no grace period protects (slot_retention.h), holding the locks of
  /// every stage a run could be writing: `stages` (the flow file's), those the metadata
  /// records and those found in the folder. Files of other flows and instances are never
  /// looked at. Returns the relative paths removed (or that would be, with `dry_run`).
  arrow::Result<std::vector<std::string>> CollectGarbage(const std::vector<std::string>& stages,
                                                         bool dry_run);

  /// The instance's key in the metadata store: "<flow>/<instance>", so flows sharing one
  /// PostgreSQL database (or catalog folder) never mix their stages; the instance alone
  /// when no flow name is set.
  std::string MetadataInstance() const;

  /// <instance>/<flow>, relative to the base (<instance> alone without a flow name).
  std::string FlowDir() const;
  /// <flow dir>/<stage>__<slot>, relative to the base.
  std::string SlotDir(const std::string& stage, const std::string& slot) const;
  /// <slot dir>/<table>, relative to the base.
  std::string TableDir(const std::string& stage, const std::string& slot,
                       const std::string& table) const;

 private:
  /// Empties the slot folder as PlanSlotCleanup says; returns what went (or would).
  arrow::Result<std::vector<std::string>> CleanSlot(const std::string& stage,
                                                    const std::string& slot,
                                                    const MetadataSnapshot& snapshot,
                                                    bool dry_run);
  /// Every file under `dir` (relative to the base), writers' temp files included.
  arrow::Result<std::vector<std::string>> ListAll(const std::string& dir);

  TableStore(TableStoreOptions options, storage::Uri base)
      : options_(std::move(options)), base_(std::move(base)) {}
  CatalogTarget catalog_target() const;

  TableStoreOptions options_;
  storage::Uri base_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<MetadataStore> metadata_;
};

/// Writes of one stage into its uncommitted slot. Tables may be written from several
/// threads at once. Destroyed without Commit(), it leaves the committed slot live and
/// intact; what it wrote is removed by the next BeginStage or by gc.
class StageTransaction {
 public:
  StageTransaction(TableStore* store, std::string stage, std::string slot, std::string run_id,
                   StageLocks* locks, MetadataSnapshot snapshot);

  const std::string& stage() const { return stage_; }
  const std::string& slot() const { return slot_; }
  const std::string& run_id() const { return run_id_; }
  /// "part-<id>": data files of this transaction are "<stem>-NNNN.parquet", a name no
  /// earlier generation kept in the slot can have.
  const std::string& file_stem() const { return file_stem_; }
  /// The metadata as it was when the transaction began.
  const MetadataSnapshot& snapshot() const { return snapshot_; }

  /// Streams `reader` into the table `table` of this slot.
  arrow::Result<TableRecord> WriteTable(const std::string& table, arrow::RecordBatchReader& reader,
                                        const TableOptions& options);
  arrow::Result<TableRecord> WriteTable(const std::string& table, const arrow::Table& data,
                                        const TableOptions& options);
  /// Runs `sql` in DuckDB over `inputs` (each "stage.table" resolves to this transaction's
  /// table for its own stage, else to the committed table) and streams the result into
  /// `table`, ordered by the options' sort keys.
  arrow::Result<TableRecord> WriteSql(const std::string& table, const std::string& sql,
                                      const std::vector<TableRef>& inputs,
                                      const TableOptions& options);
  /// A cache hit: the committed slot's table copied into this slot with server-side
  /// copies (no download), `parallelism` at a time.
  arrow::Result<TableRecord> CopyCommitted(const std::string& table, int parallelism = 8);

  /// The table as seen from this transaction: written here for this stage, else committed.
  arrow::Result<const TableRecord*> Resolve(const TableRef& ref);
  /// That table, streamed.
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> ReadTable(const TableRef& ref);

  /// Adopts a table written by the caller's own TableWriter into
  /// store->TableDir(stage(), slot(), table); fills its identity fields.
  arrow::Result<TableRecord> AddWritten(const std::string& table, TableRecord record);

  /// Records the task row committed with the stage.
  void RecordTask(TaskRecord task);

  /// Validates the locks, builds the catalog as it will be after this commit, then records
  /// the slot as committed with its tasks and tables in one metadata transaction, then
  /// `finished_run` when given (a run's last stage: its catalog publication then shows the
  /// run's end too), then renames the built catalog into place. When the catalog cannot be
  /// built nothing is committed: the stage's committed slot stays as it was.
  arrow::Status Commit(const RunRecord* finished_run = nullptr);

 private:
  TableStore* store_;
  const std::string stage_;
  const std::string slot_;
  const std::string run_id_;
  const std::string file_stem_;
  StageLocks* locks_;
  const MetadataSnapshot snapshot_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<TableRecord>> tables_;
  std::vector<TaskRecord> tasks_;
};

}  // namespace lakepipe::tablestore
