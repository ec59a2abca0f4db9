#include "lakepipe/tablestore/table_store.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <arrow/array.h>
#include <fmt/format.h>

#include "lakepipe/common/crash_point.h"
#include "lakepipe/common/time_format.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/catalog.h"
#include "lakepipe/tablestore/layout.h"
#include "lakepipe/tablestore/slot_retention.h"
#include "lakepipe/tablestore/table_scan_sql.h"

namespace lakepipe::tablestore {
namespace {

/// Keeps the DuckDB session that produces a streamed result alive as long as the reader.
class SessionReader : public arrow::RecordBatchReader {
 public:
  SessionReader(std::unique_ptr<duckdb::Database> db,
                std::shared_ptr<arrow::RecordBatchReader> inner)
      : db_(std::move(db)), inner_(std::move(inner)) {}
  ~SessionReader() override { inner_.reset(); }
  std::shared_ptr<arrow::Schema> schema() const override { return inner_->schema(); }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    return inner_->ReadNext(batch);
  }

 private:
  std::unique_ptr<duckdb::Database> db_;
  std::shared_ptr<arrow::RecordBatchReader> inner_;
};

std::string ReadParquetSql(const storage::Uri& base, const TableRecord& table) {
  return "(" + TableScanSql(base, table) + ")";
}

/// `snapshot` as the metadata store holds it once `commit` (and `finished_run`) are written:
/// the stage's committed slot replaced, the slot's tasks and tables replaced, the run
/// inserted or updated (MetadataStore::CommitStage and SaveRun).
void ApplyCommit(const StageCommit& commit, const RunRecord* finished_run,
                 MetadataSnapshot* snapshot) {
  const StageRecord& stage = commit.stage;
  std::erase_if(snapshot->stages, [&](const StageRecord& s) { return s.stage == stage.stage; });
  snapshot->stages.push_back(stage);
  std::sort(snapshot->stages.begin(), snapshot->stages.end(),
            [](const StageRecord& a, const StageRecord& b) { return a.stage < b.stage; });
  auto in_slot = [&](const auto& row) {
    return row.stage == stage.stage && row.slot == stage.committed_slot;
  };
  std::erase_if(snapshot->tasks, in_slot);
  std::erase_if(snapshot->tables, in_slot);
  snapshot->tasks.insert(snapshot->tasks.end(), commit.tasks.begin(), commit.tasks.end());
  snapshot->tables.insert(snapshot->tables.end(), commit.tables.begin(), commit.tables.end());
  if (finished_run) {
    std::erase_if(snapshot->runs,
                  [&](const RunRecord& r) { return r.run_id == finished_run->run_id; });
    snapshot->runs.push_back(*finished_run);
  }
}

}  // namespace

arrow::Result<std::unique_ptr<TableStore>> TableStore::Open(
    TableStoreOptions options, storage::StorageOptions storage_options) {
  if (options.catalog_path.empty())
    return arrow::Status::Invalid("table store needs a catalog path");
  ARROW_ASSIGN_OR_RAISE(auto base, storage::Uri::Parse(options.base));
  auto store = std::unique_ptr<TableStore>(new TableStore(std::move(options), std::move(base)));
  ARROW_ASSIGN_OR_RAISE(store->storage_, storage::Storage::Make(std::move(storage_options)));
  const std::string& catalog = store->options_.catalog_path;
  ARROW_ASSIGN_OR_RAISE(store->metadata_,
                        OpenMetadataStore(store->options_.metadata,
                                          layout::EmbeddedMetadataPath(catalog),
                                          layout::LockDir(catalog)));
  return store;
}

TableStore::~TableStore() = default;

arrow::Result<MetadataSnapshot> TableStore::Load() { return metadata_->Load(MetadataInstance()); }

arrow::Result<std::unique_ptr<StageLocks>> TableStore::Lock(std::vector<std::string> stages) {
  return metadata_->Lock(MetadataInstance(), std::move(stages));
}

std::string TableStore::MetadataInstance() const {
  return layout::MetadataInstance(options_.flow, options_.instance);
}

std::string TableStore::FlowDir() const {
  return layout::FlowDir(options_.instance, options_.flow);
}

std::string TableStore::SlotDir(const std::string& stage, const std::string& slot) const {
  return layout::SlotDir(FlowDir(), stage, slot);
}

std::string TableStore::TableDir(const std::string& stage, const std::string& slot,
                                 const std::string& table) const {
  return layout::TableDir(SlotDir(stage, slot), table);
}

arrow::Result<std::vector<std::string>> TableStore::ListAll(const std::string& dir) {
  ARROW_ASSIGN_OR_RAISE(auto entries, storage_->ListAllFiles(base_.Join(dir)));
  const std::string prefix = base_.FileSystemPath() + "/";
  std::vector<std::string> files;
  for (const auto& entry : entries) {
    const std::string path = entry.uri.FileSystemPath();
    if (path.starts_with(prefix)) files.push_back(path.substr(prefix.size()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

arrow::Result<std::vector<std::string>> TableStore::CleanSlot(const std::string& stage,
                                                              const std::string& slot,
                                                              const MetadataSnapshot& snapshot,
                                                              bool dry_run) {
  const std::string dir = SlotDir(stage, slot);
  SlotFolder folder;
  ARROW_ASSIGN_OR_RAISE(folder.files, ListAll(dir));
  for (const auto& file : folder.files) {
    if (!layout::IsReplacedMarker(dir, file)) continue;
    auto text = storage_->ReadAll(base_.Join(file));
    if (!text.ok()) continue;  // gone meanwhile, or unreadable: treated as a stray file
    auto marker = ParseReplacedFiles(file, (*text)->ToString());
    if (marker.ok()) folder.markers.push_back(std::move(*marker));
  }
  const StageRecord* committed = snapshot.FindStage(stage);
  const auto files_of = [&](const std::string& of_slot) {
    std::vector<std::string> files;
    for (const TableRecord* table : snapshot.TablesIn(stage, of_slot)) {
      for (const auto& file : table->files) files.push_back(file.path);
    }
    return files;
  };
  if (committed && committed->committed_slot == slot) {
    const auto live = files_of(slot);
    folder.live.insert(live.begin(), live.end());
  } else if (committed) {
    // This slot's last generation was replaced when the other slot committed (at the
    // latest: a cache-hit run moves committed_at later, which only keeps files longer).
    folder.previous = files_of(slot);
    folder.previous_replaced_at = ParseIsoUtc(committed->committed_at);
  }
  const auto plan = PlanSlotCleanup(dir, folder, std::chrono::system_clock::now(),
                                    options_.keep_replaced_for,
                                    fmt::format("{:08x}", std::random_device{}()));
  if (!dry_run) {
    if (plan.keep) {
      ARROW_RETURN_NOT_OK(storage_->WriteAll(base_.Join(plan.keep->marker),
                                             ReplacedFilesJson(*plan.keep)));
    }
    for (const auto& file : plan.remove) {
      ARROW_RETURN_NOT_OK(storage_->Delete(base_.Join(file)));
    }
  }
  return plan.remove;
}

arrow::Result<std::unique_ptr<StageTransaction>> TableStore::BeginStage(const std::string& stage,
                                                                        const std::string& run_id,
                                                                        StageLocks* locks) {
  ARROW_RETURN_NOT_OK(locks->Validate());
  ARROW_ASSIGN_OR_RAISE(auto snapshot, Load());
  const StageRecord* committed = snapshot.FindStage(stage);
  const std::string slot = OtherSlot(committed ? committed->committed_slot : "");
  // Whatever an earlier, uncommitted run left in this slot goes first; the generation the
  // slot held before stays while readers of it may remain.
  ARROW_RETURN_NOT_OK(CleanSlot(stage, slot, snapshot, /*dry_run=*/false).status());
  return std::make_unique<StageTransaction>(this, stage, slot, run_id, locks, std::move(snapshot));
}

CatalogTarget TableStore::catalog_target() const {
  return {options_.catalog_path, base_, options_.flow, options_.instance, storage_->options()};
}

arrow::Status TableStore::PublishCatalog() {
  // The snapshot is read under the publish lock, so a publication never replaces a newer
  // one with older metadata.
  ARROW_ASSIGN_OR_RAISE(auto publication, CatalogPublication::Begin(catalog_target()));
  ARROW_ASSIGN_OR_RAISE(auto snapshot, Load());
  ARROW_RETURN_NOT_OK(publication->Build(snapshot));
  return publication->Publish();
}

arrow::Result<std::unique_ptr<CatalogPublication>> TableStore::BuildCatalogWith(
    const StageCommit& commit, const RunRecord* finished_run) {
  ARROW_ASSIGN_OR_RAISE(auto publication, CatalogPublication::Begin(catalog_target()));
  ARROW_ASSIGN_OR_RAISE(auto snapshot, Load());
  ApplyCommit(commit, finished_run, &snapshot);
  ARROW_RETURN_NOT_OK(publication->Build(snapshot));
  return publication;
}

arrow::Status TableStore::PublishCatalogIfStale() {
  ARROW_ASSIGN_OR_RAISE(auto snapshot, Load());
  std::set<std::string> expected;
  for (const auto& s : snapshot.stages) {
    expected.insert(s.stage + "|" + s.committed_slot + "|" + s.run_id);
  }
  std::set<std::string> published;
  std::error_code ec;
  if (std::filesystem::exists(options_.catalog_path, ec)) {
    // A catalog that will not open (a stale WAL beside it, say) is simply republished:
    // the publication removes the WAL and checks the owner on its copy.
    auto db = duckdb::Database::Open({options_.catalog_path, /*read_only=*/true, ""});
    if (db.ok()) {
      // Another flow's catalog is refused here, before the run empties any slot.
      ARROW_RETURN_NOT_OK(CheckCatalogOwner(**db, catalog_target()));
      auto rows = (*db)->QueryText("SELECT stage, committed_slot, run_id FROM lakepipe.stages");
      if (rows.ok()) {
        for (const auto& r : rows->rows) {
          published.insert(r[0].value_or("") + "|" + r[1].value_or("") + "|" + r[2].value_or(""));
        }
      }
    }
  }
  if (published == expected && !expected.empty()) return arrow::Status::OK();
  return PublishCatalog();
}

arrow::Result<std::unique_ptr<duckdb::Database>> TableStore::OpenSqlSession(
    const std::vector<std::pair<TableRef, const TableRecord*>>& tables) {
  ARROW_ASSIGN_OR_RAISE(auto db, duckdb::Database::Open({}));
  if (!base_.is_local()) ARROW_RETURN_NOT_OK(db->ConfigureStorage(storage_->options()));
  std::set<std::string> schemas;
  std::string sql;
  for (const auto& [ref, record] : tables) {
    if (schemas.insert(ref.stage).second) {
      sql += fmt::format("CREATE SCHEMA IF NOT EXISTS {};\n", SqlIdentifier(ref.stage));
    }
    sql +=
        fmt::format("CREATE OR REPLACE VIEW {}.{} AS SELECT * FROM {};\n", SqlIdentifier(ref.stage),
                    SqlIdentifier(ref.table), ReadParquetSql(base_, *record));
  }
  if (!sql.empty()) ARROW_RETURN_NOT_OK(db->Execute(sql));
  return db;
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> TableStore::ReadTable(
    const TableRef& ref) {
  ARROW_ASSIGN_OR_RAISE(auto snapshot, Load());
  const StageRecord* stage = snapshot.FindStage(ref.stage);
  const TableRecord* table =
      stage ? snapshot.FindTable(ref.stage, stage->committed_slot, ref.table) : nullptr;
  if (!table) {
    return arrow::Status::KeyError(fmt::format("table '{}' is not committed in instance '{}'",
                                               ref.ToString(), options_.instance));
  }
  return ReadFiles(*table);
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> TableStore::ReadFiles(
    const TableRecord& record) {
  ARROW_ASSIGN_OR_RAISE(auto db, OpenSqlSession({}));
  ARROW_ASSIGN_OR_RAISE(auto reader,
                        db->QueryArrow("SELECT * FROM " + ReadParquetSql(base_, record)));
  return std::make_shared<SessionReader>(std::move(db), std::move(reader));
}

arrow::Result<std::vector<std::string>> TableStore::CollectGarbage(
    const std::vector<std::string>& stages, bool dry_run) {
  if (options_.flow.empty()) {
    return arrow::Status::Invalid("gc needs the flow's name: it only cleans the flow's folder");
  }
  const std::string flow_dir = FlowDir();
  // The stage of "<flow dir>/<stage>__<slot>/…", or nullopt for a file outside slot folders.
  const auto slot_of = [&](const std::string& file) -> std::optional<std::pair<std::string, std::string>> {
    const auto start = flow_dir.size() + 1;
    const auto end = file.find('/', start);
    if (end == std::string::npos) return std::nullopt;
    return layout::ParseSlotFolder(std::string_view(file).substr(start, end - start));
  };
  // Lock every stage a run could be writing, committed or not, named by the flow file, the
  // metadata or a folder (a teammate's newer flow file may have a stage this one lacks).
  std::set<std::string> to_lock(stages.begin(), stages.end());
  ARROW_ASSIGN_OR_RAISE(auto before, Load());
  for (const auto& stage : before.stages) to_lock.insert(stage.stage);
  ARROW_ASSIGN_OR_RAISE(auto found, ListAll(flow_dir));
  for (const auto& file : found) {
    if (auto slot = slot_of(file)) to_lock.insert(slot->first);
  }
  ARROW_ASSIGN_OR_RAISE(auto locks, Lock({to_lock.begin(), to_lock.end()}));
  // As it is now that no run of the flow writes.
  ARROW_ASSIGN_OR_RAISE(auto snapshot, Load());
  ARROW_ASSIGN_OR_RAISE(found, ListAll(flow_dir));
  std::vector<std::string> removed;
  std::set<std::pair<std::string, std::string>> slots;
  for (const auto& file : found) {
    if (auto slot = slot_of(file)) {
      // A stage folder that appeared after the locks were taken is a run's: left alone.
      if (to_lock.contains(slot->first)) slots.insert(*slot);
      continue;
    }
    removed.push_back(file);  // outside every slot folder: nothing reads it
    if (!dry_run) ARROW_RETURN_NOT_OK(storage_->Delete(base_.Join(file)));
  }
  for (const auto& [stage, slot] : slots) {
    ARROW_ASSIGN_OR_RAISE(auto gone, CleanSlot(stage, slot, snapshot, dry_run));
    removed.insert(removed.end(), gone.begin(), gone.end());
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

// --- StageTransaction ------------------------------------------------------------------

StageTransaction::StageTransaction(TableStore* store, std::string stage, std::string slot,
                                   std::string run_id, StageLocks* locks, MetadataSnapshot snapshot)
    : store_(store),
      stage_(std::move(stage)),
      slot_(std::move(slot)),
      run_id_(std::move(run_id)),
      file_stem_(layout::NewFileStem()),
      locks_(locks),
      snapshot_(std::move(snapshot)) {}

arrow::Result<TableRecord> StageTransaction::AddWritten(const std::string& table,
                                                        TableRecord record) {
  record.instance = store_->MetadataInstance();
  record.stage = stage_;
  record.slot = slot_;
  record.table = table;
  std::lock_guard lock(mutex_);
  tables_[table] = std::make_unique<TableRecord>(record);
  return record;
}

arrow::Result<TableRecord> StageTransaction::WriteTable(const std::string& table,
                                                        arrow::RecordBatchReader& reader,
                                                        const TableOptions& options) {
  ARROW_RETURN_NOT_OK(locks_->Validate());
  TableRecord record;
  ARROW_RETURN_NOT_OK(tablestore::WriteTable(store_->storage(), store_->base(),
                                             store_->TableDir(stage_, slot_, table), reader,
                                             options, &record, file_stem_));
  return AddWritten(table, std::move(record));
}

arrow::Result<TableRecord> StageTransaction::WriteTable(const std::string& table,
                                                        const arrow::Table& data,
                                                        const TableOptions& options) {
  arrow::TableBatchReader reader(data);
  return WriteTable(table, reader, options);
}

arrow::Result<const TableRecord*> StageTransaction::Resolve(const TableRef& ref) {
  if (ref.stage == stage_) {
    std::lock_guard lock(mutex_);
    auto it = tables_.find(ref.table);
    if (it != tables_.end()) return it->second.get();
    return arrow::Status::KeyError(
        fmt::format("table '{}' is not written yet in this stage", ref.ToString()));
  }
  const StageRecord* stage = snapshot_.FindStage(ref.stage);
  const TableRecord* table =
      stage ? snapshot_.FindTable(ref.stage, stage->committed_slot, ref.table) : nullptr;
  if (!table) {
    return arrow::Status::KeyError(fmt::format("table '{}' is not committed", ref.ToString()));
  }
  return table;
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> StageTransaction::ReadTable(
    const TableRef& ref) {
  ARROW_ASSIGN_OR_RAISE(const TableRecord* record, Resolve(ref));
  return store_->ReadFiles(*record);
}

arrow::Result<TableRecord> StageTransaction::WriteSql(const std::string& table,
                                                      const std::string& sql,
                                                      const std::vector<TableRef>& inputs,
                                                      const TableOptions& options) {
  std::vector<std::pair<TableRef, const TableRecord*>> views;
  for (const auto& ref : inputs) {
    ARROW_ASSIGN_OR_RAISE(const TableRecord* record, Resolve(ref));
    views.emplace_back(ref, record);
  }
  ARROW_ASSIGN_OR_RAISE(auto db, store_->OpenSqlSession(views));
  std::string query = sql;
  while (!query.empty() &&
         (std::isspace(static_cast<unsigned char>(query.back())) || query.back() == ';')) {
    query.pop_back();
  }
  if (!options.sort_by.empty()) {
    std::string keys;
    for (const auto& key : options.sort_by) keys += (keys.empty() ? "" : ", ") + SqlIdentifier(key);
    query = fmt::format("SELECT * FROM (\n{}\n) ORDER BY {}", query, keys);
  }
  ARROW_ASSIGN_OR_RAISE(auto reader, db->QueryArrow(query));
  return WriteTable(table, *reader, options);
}

arrow::Result<TableRecord> StageTransaction::CopyCommitted(const std::string& table,
                                                           int parallelism) {
  ARROW_RETURN_NOT_OK(locks_->Validate());
  const StageRecord* stage = snapshot_.FindStage(stage_);
  const TableRecord* source =
      stage ? snapshot_.FindTable(stage_, stage->committed_slot, table) : nullptr;
  if (!source) {
    return arrow::Status::KeyError(
        fmt::format("table '{}.{}' is not committed: nothing to copy", stage_, table));
  }
  const std::string to = store_->TableDir(stage_, slot_, table);
  TableRecord record = *source;
  // New names (this transaction's stem): the slot may still hold the files of the
  // generation it replaced, under names this copy must not overwrite.
  std::vector<std::string> targets;
  for (size_t i = 0; i < record.files.size(); ++i) {
    // Hive partition folders are the last partition_by.size() folders of a file's path
    // (none for an empty table: its one file sits at the table's root).
    std::string partition;
    std::string_view path = record.files[i].path;
    path = path.substr(0, path.rfind('/'));
    const size_t folders = record.rows > 0 ? record.partition_by.size() : 0;
    for (size_t p = 0; p < folders; ++p) {
      const auto slash = path.rfind('/');
      partition = std::string(path.substr(slash + 1)) + "/" + partition;
      path = path.substr(0, slash == std::string_view::npos ? 0 : slash);
    }
    const std::string dir = partition.empty() ? to : to + "/" + partition.substr(0, partition.size() - 1);
    targets.push_back(layout::DataFile(dir, file_stem_, i));
  }
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  arrow::Status first_error;
  auto worker = [&] {
    for (size_t i = next++; i < record.files.size(); i = next++) {
      auto& file = record.files[i];
      const std::string& target = targets[i];
      auto status =
          store_->storage().Copy(store_->base().Join(file.path), store_->base().Join(target));
      std::lock_guard lock(error_mutex);
      if (!status.ok() && first_error.ok()) first_error = status;
      file.path = target;
    }
  };
  std::vector<std::thread> threads;
  const size_t count = std::min<size_t>(std::max(parallelism, 1), record.files.size());
  for (size_t t = 0; t < count; ++t) threads.emplace_back(worker);
  for (auto& thread : threads) thread.join();
  ARROW_RETURN_NOT_OK(first_error);
  return AddWritten(table, std::move(record));
}

void StageTransaction::RecordTask(TaskRecord task) {
  task.instance = store_->MetadataInstance();
  task.stage = stage_;
  task.slot = slot_;
  task.run_id = run_id_;
  std::lock_guard lock(mutex_);
  tasks_.push_back(std::move(task));
}

arrow::Status StageTransaction::Commit(const RunRecord* finished_run) {
  ARROW_RETURN_NOT_OK(locks_->Validate());
  StageCommit commit;
  commit.stage = {store_->MetadataInstance(), stage_, slot_, run_id_,
                  IsoUtc(std::chrono::system_clock::now())};
  {
    std::lock_guard lock(mutex_);
    commit.tasks = tasks_;
    for (const auto& [name, table] : tables_) commit.tables.push_back(*table);
  }
  CrashPoint("stage-after-data-before-commit");
  // The catalog is built first: metadata it cannot be published for (a view DuckDB
  // refuses) is never committed, so the stage's committed slot stays as it was. Its
  // publication lock is held until the rename, so no other publication slips in between;
  // a crash before the rename leaves a stale catalog, which the next run republishes
  // (PublishCatalogIfStale) before it empties any slot.
  ARROW_ASSIGN_OR_RAISE(auto catalog, store_->BuildCatalogWith(commit, finished_run));
  ARROW_RETURN_NOT_OK(locks_->Validate());
  ARROW_RETURN_NOT_OK(store_->metadata().CommitStage(commit));
  if (finished_run) ARROW_RETURN_NOT_OK(store_->metadata().SaveRun(*finished_run));
  CrashPoint("stage-after-metadata-before-catalog");
  return catalog->Publish();
}

}  // namespace lakepipe::tablestore
