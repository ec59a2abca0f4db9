#include "lakepipe/flow/flow_runner.h"

#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/sha256.h"
#include "lakepipe/common/time_format.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/flow/exec_process.h"
#include "lakepipe/flow/flow_names.h"
#include "lakepipe/flow/flow_selection.h"
#include "lakepipe/flow/ingest_task.h"
#include "lakepipe/flow/sql_references.h"
#include "lakepipe/flow/task_version.h"
#include "lakepipe/lake/table_entry.h"
#include "lakepipe/sources/file_source.h"
#include "lakepipe/storage/storage_environment.h"
#include "lakepipe/tablestore/catalog.h"

namespace lakepipe::flow {
namespace {

using Clock = std::chrono::steady_clock;
using tablestore::StageTransaction;
using tablestore::TableRecord;
using tablestore::TableRef;

std::string NewRunId() {
  const auto now = std::chrono::system_clock::now();
  std::string stamp = IsoUtc(now).substr(0, 19);
  for (char& c : stamp) {
    if (c == ':') c = '-';
  }
  return fmt::format("{}-{:08x}", stamp, std::random_device{}());
}

arrow::Status InTask(const arrow::Status& status, const FlowConfig& config,
                     const std::string& stage, const std::string& task) {
  if (status.ok()) return status;
  return status.WithMessage(fmt::format("flow '{}', stage '{}', task '{}': {}", config.name, stage,
                                        task, status.message()));
}

arrow::Status InStage(const arrow::Status& status, const FlowConfig& config,
                      const std::string& stage) {
  if (status.ok()) return status;
  return status.WithMessage(
      fmt::format("flow '{}', stage '{}': {}", config.name, stage, status.message()));
}

template <typename T>
arrow::Result<T> InStage(arrow::Result<T> result, const FlowConfig& config,
                         const std::string& stage) {
  if (result.ok()) return result;
  return InStage(result.status(), config, stage);
}

/// Writes a built-in reader's batches into one table.
class TableSink : public sources::IngestSink {
 public:
  TableSink(StageTransaction* tx, tablestore::TableStore* store, const TaskConfig& task)
      : tx_(tx), store_(store), task_(task) {}

  arrow::Status OnSchema(const std::string&,
                         const std::shared_ptr<arrow::Schema>& schema) override {
    if (writer_) {
      if (schema->Equals(*schema_)) return arrow::Status::OK();
      return arrow::Status::Invalid("the files do not all have the same columns");
    }
    schema_ = schema;
    ARROW_ASSIGN_OR_RAISE(
        writer_, tablestore::TableWriter::Make(
                     store_->storage(), store_->base(),
                     store_->TableDir(tx_->stage(), tx_->slot(), task_.name), schema, task_.table,
                     tx_->file_stem()));
    return arrow::Status::OK();
  }
  arrow::Status OnBatch(const std::string&,
                        const std::shared_ptr<arrow::RecordBatch>& batch) override {
    return writer_->Write(*batch);
  }
  arrow::Status OnState(const nlohmann::json&) override { return arrow::Status::OK(); }

  arrow::Result<TableRecord> Finish() {
    if (!writer_)
      return arrow::Status::Invalid(fmt::format("'{}' matched no file", task_.read_uri));
    TableRecord record;
    ARROW_RETURN_NOT_OK(writer_->Finish(&record));
    return record;
  }

 private:
  StageTransaction* tx_;
  tablestore::TableStore* store_;
  const TaskConfig& task_;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<tablestore::TableWriter> writer_;
};

/// sha256 of a local file's bytes, "" when `path` is not a readable regular file.
std::string FileDigest(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return "";
  std::ifstream in(path, std::ios::binary);
  common::Sha256 hash;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    hash.Update(buffer, static_cast<size_t>(in.gcount()));
  }
  return hash.HexDigest();
}

class StageRunner {
 public:
  StageRunner(const FlowConfig& config, const FlowRunOptions& options,
              const TaskSelection& selection, tablestore::TableStore* store,
              tablestore::StageLocks* locks, const std::string& run_id, const TaskCallback& on_task)
      : config_(config),
        options_(options),
        selection_(selection),
        store_(store),
        locks_(locks),
        run_id_(run_id),
        on_task_(on_task) {}

  /// Runs the selected tasks of `stage` (carrying the others as committed) and commits it.
  /// With `last_of_run`, the run is recorded as succeeded with the stage's commit (RunFlow
  /// then skips its own closing catalog publication). With keep_going, failed tasks land in
  /// the outcome's failures and the stage does not commit. Errors name flow and stage.
  arrow::Result<StageOutcome> Run(const StageConfig& stage,
                                  const tablestore::RunRecord* last_of_run) {
    StageOutcome outcome;
    outcome.stage = stage.name;
    ingested_.clear();
    std::map<std::string, arrow::Status> failed;  // ingest tasks whose pipeline failed
    // Ingest tasks land their pipeline's new data first: the cache key is the table the
    // pipeline's bucket holds afterwards.
    for (const auto& task : stage.tasks) {
      if (task.kind != TaskKind::kIngest || !selection_.Runs(stage.name, task.name)) continue;
      auto ingested = RunIngestTask(options_.home, task.ingest_pipeline, task.ingest_stream);
      if (!ingested.ok()) {
        auto failure = InTask(ingested.status(), config_, stage.name, task.name);
        if (!options_.keep_going) return failure;
        failed[task.name] = std::move(failure);
        continue;
      }
      ingested_[task.name] = std::move(*ingested);
    }
    ARROW_ASSIGN_OR_RAISE(auto snapshot, InStage(store_->Load(), config_, stage.name));
    const auto* committed = snapshot.FindStage(stage.name);
    if (!options_.force && committed && failed.empty()) {
      ARROW_ASSIGN_OR_RAISE(
          bool all_hits, InStage(AllCacheHits(stage, snapshot, *committed), config_, stage.name));
      if (all_hits) {
        return InStage(CommitMetadataOnly(stage, snapshot, *committed), config_, stage.name);
      }
    }
    ARROW_ASSIGN_OR_RAISE(
        auto tx, InStage(store_->BeginStage(stage.name, run_id_, locks_), config_, stage.name));
    ARROW_RETURN_NOT_OK(CarryUnselected(stage, tx.get(), &outcome));
    ARROW_RETURN_NOT_OK(RunTasks(stage, tx.get(), committed, failed, &outcome));
    // A failed task: no commit, the committed slot stays live (what was written goes with
    // the next BeginStage or gc).
    if (!outcome.failures.empty()) return outcome;
    std::optional<tablestore::RunRecord> finished;
    if (last_of_run) {
      finished = *last_of_run;
      finished->finished_at = IsoUtc(std::chrono::system_clock::now());
      finished->status = "succeeded";
    }
    ARROW_RETURN_NOT_OK(InStage(tx->Commit(finished ? &*finished : nullptr), config_, stage.name));
    outcome.slot = tx->slot();
    outcome.recorded_run = finished.has_value();
    return outcome;
  }

  /// Why the committed table of `stage`.`task` is not what running the task now would
  /// write, "" when it is: its cache key computed now (from its inputs' committed tables)
  /// is the committed one and no input is in `stale`. Ingest tasks count as current (their
  /// key needs the pipeline's run). The task must be committed.
  arrow::Result<std::string> WhyStale(const std::string& stage, const TaskConfig& task,
                                      const tablestore::MetadataSnapshot& snapshot,
                                      const std::set<TableRef>& stale) {
    const auto* committed = snapshot.FindStage(stage);
    const auto* previous = snapshot.FindTask(stage, committed->committed_slot, task.name);
    for (const auto& ref : task.inputs) {
      if (stale.contains(ref)) return fmt::format("its input '{}' is stale", ref.ToString());
    }
    if (task.kind == TaskKind::kIngest) return std::string();
    auto content = [&](const TableRef& ref) -> arrow::Result<std::string> {
      const auto* s = snapshot.FindStage(ref.stage);
      const auto* t = s ? snapshot.FindTable(ref.stage, s->committed_slot, ref.table) : nullptr;
      if (!t)
        return arrow::Status::KeyError(fmt::format("table '{}' is not committed", ref.ToString()));
      return t->content_hash;
    };
    ARROW_ASSIGN_OR_RAISE(auto key, CacheKey(task, content));
    if (previous && key == previous->cache_key) return std::string();
    if (!previous) return std::string("it has no committed task record");
    if (previous->version != task.version) {
      return fmt::format("its version changed ({} when committed, now {})", previous->version,
                         task.version);
    }
    for (const auto& ref : task.inputs) {
      const auto* input = snapshot.FindStage(ref.stage);
      if (input && ref.stage != stage && input->committed_at > committed->committed_at) {
        return fmt::format("its input '{}' was committed again after it", ref.ToString());
      }
    }
    switch (task.kind) {
      case TaskKind::kSql:
        return std::string("its SQL or table options changed since it was committed");
      case TaskKind::kRead:
        return std::string("its source files or reader options changed since it was committed");
      default:
        return std::string("its command, scripts or table options changed since it was committed");
    }
  }

 private:
  /// FileReferences() of `sql`, parsed once per run.
  arrow::Result<std::vector<SqlFileReference>> SqlFiles(const std::string& sql) {
    std::lock_guard lock(parser_mutex_);
    auto it = sql_files_.find(sql);
    if (it != sql_files_.end()) return it->second;
    if (!parser_) {
      ARROW_ASSIGN_OR_RAISE(parser_, duckdb::Database::Open({}));
    }
    ARROW_ASSIGN_OR_RAISE(auto files, FileReferences(*parser_, sql));
    return sql_files_.emplace(sql, std::move(files)).first->second;
  }

  /// The files `pattern` (a path, URI or glob) names as listed (name, size, time): a
  /// changed file is a new input. Schemes lakepipe storage does not know (https://, …)
  /// list as their name only.
  arrow::Result<nlohmann::json> ListFiles(const std::string& pattern) {
    nlohmann::json listing = nlohmann::json::array();
    const auto sep = pattern.find("://");
    static const std::set<std::string> kSchemes = {"file", "s3",    "s3a",  "gs",   "gcs",
                                                   "az",   "azure", "abfs", "abfss"};
    if (sep != std::string::npos && !kSchemes.contains(pattern.substr(0, sep))) {
      listing.push_back(pattern);
      return listing;
    }
    ARROW_ASSIGN_OR_RAISE(auto files, sources::ExpandGlob(&store_->storage(), pattern));
    for (const auto& uri : files) {
      ARROW_ASSIGN_OR_RAISE(auto entry, store_->storage().Stat(uri));
      listing.push_back(
          {uri.ToString(), entry.size,
           std::chrono::duration_cast<std::chrono::microseconds>(entry.modified.time_since_epoch())
               .count()});
    }
    return listing;
  }

  /// The task's cache key: its name, version, kind, definition and its inputs' content.
  arrow::Result<std::string> CacheKey(
      const TaskConfig& task,
      const std::function<arrow::Result<std::string>(const TableRef&)>& content) {
    nlohmann::json key = {{"task", task.name},
                          {"version", TaskVersionCacheValue(task.version)},
                          {"kind", TaskKindName(task.kind)},
                          {"not_null", task.table.not_null},
                          {"sort_by", task.table.sort_by},
                          {"partition_by", task.table.partition_by},
                          {"compression", task.table.parquet.compression},
                          {"compression_level", task.table.parquet.compression_level},
                          {"row_group_rows", task.table.parquet.row_group_rows},
                          {"file_size_bytes", task.table.file_size_bytes}};
    switch (task.kind) {
      case TaskKind::kSql: {
        key["sql"] = task.sql;
        // Files the SQL reads itself (read_csv('…'), FROM 'x.parquet'), fingerprinted as
        // a read task's; absent from the key when there are none, so such keys stay as
        // they were.
        ARROW_ASSIGN_OR_RAISE(auto references, SqlFiles(task.sql));
        nlohmann::json files = nlohmann::json::array();
        for (const auto& reference : references) {
          const std::string location = ResolveSqlFile(reference.path, config_.dir);
          auto listing = ListFiles(location);
          if (!listing.ok()) {
            return listing.status().WithMessage(
                fmt::format("the SQL reads '{}': {}", reference.path, listing.status().message()));
          }
          files.push_back({location, *listing});
        }
        if (!files.empty()) key["sql_files"] = files;
        break;
      }
      case TaskKind::kRead: {
        key["read"] = {
            {"uri", task.read_uri}, {"format", task.read_format}, {"options", task.read_options}};
        ARROW_ASSIGN_OR_RAISE(key["files"], ListFiles(task.read_uri));
        break;
      }
      case TaskKind::kExec: {
        key["exec"] = task.exec_argv;
        key["stdin"] = task.stdin_input;
        // A script named on the command line is part of the definition.
        nlohmann::json scripts = nlohmann::json::object();
        for (const auto& arg : task.exec_argv) {
          const std::string digest =
              FileDigest((std::filesystem::path(config_.dir) / arg).string());
          if (!digest.empty()) scripts[arg] = digest;
        }
        key["scripts"] = scripts;
        break;
      }
      case TaskKind::kIngest: {
        key["ingest"] = {{"pipeline", task.ingest_pipeline}, {"stream", task.ingest_stream}};
        // Ingest files are immutable (numbers are never reused): names and sizes say it all.
        const auto& ingested = ingested_.at(task.name);
        nlohmann::json files = nlohmann::json::array();
        for (size_t i = 0; i < ingested.files.size(); ++i) {
          files.push_back({ingested.files[i].ToString(), ingested.bytes[i]});
        }
        key["files"] = files;
        break;
      }
    }
    nlohmann::json inputs = nlohmann::json::object();
    for (const auto& ref : task.inputs) {
      ARROW_ASSIGN_OR_RAISE(inputs[ref.ToString()], content(ref));
    }
    key["inputs"] = inputs;
    common::Sha256 hash;
    hash.Update(key.dump());
    return hash.Base32Digest();
  }

  /// Whether every task would be a cache hit, computing keys in task order with the
  /// committed tables as inputs.
  arrow::Result<bool> AllCacheHits(const StageConfig& stage,
                                   const tablestore::MetadataSnapshot& snapshot,
                                   const tablestore::StageRecord& committed) {
    for (const auto& task : stage.tasks) {
      if (!selection_.Runs(stage.name, task.name)) continue;  // carried as committed
      auto content = [&](const TableRef& ref) -> arrow::Result<std::string> {
        const auto* s = snapshot.FindStage(ref.stage);
        const auto* t = s ? snapshot.FindTable(ref.stage, s->committed_slot, ref.table) : nullptr;
        if (!t)
          return arrow::Status::KeyError(
              fmt::format("table '{}' is not committed", ref.ToString()));
        return t->content_hash;
      };
      auto key = CacheKey(task, content);
      if (!key.ok()) return false;  // an input is missing: the real run reports it
      const auto* previous = snapshot.FindTask(stage.name, committed.committed_slot, task.name);
      const auto* table = snapshot.FindTable(stage.name, committed.committed_slot, task.name);
      if (!previous || !table || previous->cache_key != *key) return false;
    }
    return true;
  }

  arrow::Result<StageOutcome> CommitMetadataOnly(const StageConfig& stage,
                                                 const tablestore::MetadataSnapshot& snapshot,
                                                 const tablestore::StageRecord& committed) {
    ARROW_RETURN_NOT_OK(locks_->Validate());
    StageOutcome outcome{stage.name, committed.committed_slot, true, {}};
    tablestore::StageCommit commit;
    commit.stage = committed;
    commit.stage.run_id = run_id_;
    commit.stage.committed_at = IsoUtc(std::chrono::system_clock::now());
    for (const auto& task : stage.tasks) {
      const auto* found = snapshot.FindTask(stage.name, committed.committed_slot, task.name);
      if (!found) continue;  // not selected and never committed: the stage stays without it
      auto record = *found;
      const auto& table = *snapshot.FindTable(stage.name, committed.committed_slot, task.name);
      record.run_id = run_id_;
      record.output_json["cache_hit"] = true;
      record.output_json["seconds"] = 0;
      commit.tasks.push_back(record);
      TaskOutcome done{stage.name,
                       task.name,
                       TaskKindName(task.kind),
                       record.cache_key,
                       true,
                       table.rows,
                       table.bytes,
                       static_cast<int64_t>(table.files.size()),
                       0};
      done.carried = !selection_.Runs(stage.name, task.name);
      Report(done);
      outcome.tasks.push_back(done);
    }
    for (const auto* table : snapshot.TablesIn(stage.name, committed.committed_slot)) {
      commit.tables.push_back(*table);
    }
    // No view changes: the catalog's copy of the metadata is refreshed once, at the end of
    // the run.
    ARROW_RETURN_NOT_OK(store_->metadata().CommitStage(commit));
    return outcome;
  }

  void Report(const TaskOutcome& outcome) {
    if (!on_task_) return;
    std::lock_guard lock(report_mutex_);
    on_task_(outcome);
  }

  /// The stage's tasks that do not run: their committed tables copied into the new slot
  /// (server-side) with their task rows, so the commit still holds every table. One never
  /// committed stays absent (RunFlow warned).
  arrow::Status CarryUnselected(const StageConfig& stage, StageTransaction* tx,
                                StageOutcome* outcome) {
    const auto& snapshot = tx->snapshot();
    const auto* committed = snapshot.FindStage(stage.name);
    for (const auto& task : stage.tasks) {
      if (selection_.Runs(stage.name, task.name) || !committed) continue;
      const auto* previous = snapshot.FindTask(stage.name, committed->committed_slot, task.name);
      if (!previous || !snapshot.FindTable(stage.name, committed->committed_slot, task.name))
        continue;
      auto record = tx->CopyCommitted(task.name);
      ARROW_RETURN_NOT_OK(InTask(record.status(), config_, stage.name, task.name));
      tablestore::TaskRecord task_record = *previous;
      task_record.output_json["cache_hit"] = true;
      task_record.output_json["carried"] = true;
      task_record.output_json["seconds"] = 0;
      tx->RecordTask(task_record);
      TaskOutcome done{stage.name,
                       task.name,
                       TaskKindName(task.kind),
                       previous->cache_key,
                       true,
                       record->rows,
                       record->bytes,
                       static_cast<int64_t>(record->files.size()),
                       0};
      done.carried = true;
      Report(done);
      outcome->tasks.push_back(done);
    }
    return arrow::Status::OK();
  }

  /// Runs the stage's selected tasks, each once its inputs in this stage are written, at
  /// most max_parallel_tasks at a time; `failed` ones (their ingest failed) do not run.
  /// Without keep_going the first failure stops the stage and is returned; with it, failed
  /// tasks and those reading them (transitively) go to the outcome, the others still run.
  /// Errors name flow, stage and task.
  arrow::Status RunTasks(const StageConfig& stage, StageTransaction* tx,
                         const tablestore::StageRecord* committed,
                         const std::map<std::string, arrow::Status>& failed,
                         StageOutcome* outcome) {
    std::mutex mutex;
    std::condition_variable changed;
    std::set<std::string> done;     // in the slot: run, or carried
    std::set<std::string> blocked;  // failed, or not run because an input failed
    std::set<std::string> started;
    std::map<std::string, arrow::Status> failures;
    std::map<std::string, std::string> not_run;  // task -> the failed input it reads
    for (const auto& task : stage.tasks) {
      if (!selection_.Runs(stage.name, task.name)) done.insert(task.name);
    }
    for (const auto& [name, failure] : failed) {
      blocked.insert(name);
      failures[name] = failure;
    }
    int running = 0;
    arrow::Status first_error;
    std::vector<std::thread> threads;
    auto cancelled = [&] { return options_.cancel && options_.cancel->load(); };
    auto finished = [&] {
      for (const auto& task : stage.tasks) {
        if (!done.contains(task.name) && !blocked.contains(task.name)) return false;
      }
      return true;
    };
    std::unique_lock lock(mutex);
    while (!finished()) {
      if (!first_error.ok() || cancelled()) break;
      bool progress = false;
      for (const auto& task : stage.tasks) {
        if (started.contains(task.name) || blocked.contains(task.name) || done.contains(task.name))
          continue;
        bool ready = true;
        for (const auto& ref : task.inputs) {
          if (ref.stage != stage.name) continue;
          if (blocked.contains(ref.table)) {
            not_run[task.name] = ref.ToString();
            blocked.insert(task.name);
            progress = true;
          }
          if (!done.contains(ref.table)) ready = false;
        }
        if (!ready || running >= config_.max_parallel_tasks) continue;
        started.insert(task.name);
        ++running;
        progress = true;
        threads.emplace_back([&, task_ptr = &task] {
          auto result = RunTask(*task_ptr, tx, committed);
          std::lock_guard inner(mutex);
          --running;
          if (result.ok()) {
            done.insert(task_ptr->name);
            outcome->tasks.push_back(*result);
          } else if (options_.keep_going) {
            blocked.insert(task_ptr->name);
            failures[task_ptr->name] = InTask(result.status(), config_, stage.name, task_ptr->name);
          } else if (first_error.ok()) {
            first_error = InTask(result.status(), config_, stage.name, task_ptr->name);
          }
          changed.notify_all();
        });
      }
      if (!progress) changed.wait(lock);
    }
    while (running > 0) changed.wait(lock);
    lock.unlock();
    for (auto& thread : threads) thread.join();
    ARROW_RETURN_NOT_OK(first_error);
    if (cancelled()) return InStage(arrow::Status::Cancelled("run cancelled"), config_, stage.name);
    // In the flow's task order, whatever order they ended in.
    for (const auto& task : stage.tasks) {
      auto failure = failures.find(task.name);
      if (failure != failures.end()) {
        outcome->failures.push_back(failure->second);
      }
      auto skipped = not_run.find(task.name);
      if (skipped != not_run.end()) {
        outcome->not_run.push_back(
            fmt::format("task '{}.{}' (it reads '{}')", stage.name, task.name, skipped->second));
      }
    }
    return arrow::Status::OK();
  }

  arrow::Result<TaskOutcome> RunTask(const TaskConfig& task, StageTransaction* tx,
                                     const tablestore::StageRecord* committed) {
    const auto start = Clock::now();
    auto content = [&](const TableRef& ref) -> arrow::Result<std::string> {
      ARROW_ASSIGN_OR_RAISE(const TableRecord* record, tx->Resolve(ref));
      return record->content_hash;
    };
    ARROW_ASSIGN_OR_RAISE(auto key, CacheKey(task, content));
    const auto& snapshot = tx->snapshot();
    const auto* previous =
        committed ? snapshot.FindTask(tx->stage(), committed->committed_slot, task.name) : nullptr;
    const bool hit = !options_.force && previous && previous->cache_key == key &&
                     snapshot.FindTable(tx->stage(), committed->committed_slot, task.name);
    TableRecord record;
    if (hit) {
      ARROW_ASSIGN_OR_RAISE(record, tx->CopyCommitted(task.name));
    } else {
      ARROW_ASSIGN_OR_RAISE(record, Execute(task, tx));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    tablestore::TaskRecord task_record;
    task_record.task = task.name;
    task_record.cache_key = key;
    task_record.version = task.version;
    task_record.output_json = {{"table", task.name},
                               {"cache_hit", hit},
                               {"seconds", seconds},
                               {"kind", TaskKindName(task.kind)}};
    tx->RecordTask(task_record);
    TaskOutcome outcome{tx->stage(),
                        task.name,
                        TaskKindName(task.kind),
                        key,
                        hit,
                        record.rows,
                        record.bytes,
                        static_cast<int64_t>(record.files.size()),
                        seconds};
    Report(outcome);
    return outcome;
  }

  arrow::Result<TableRecord> Execute(const TaskConfig& task, StageTransaction* tx) {
    switch (task.kind) {
      case TaskKind::kSql: {
        // DuckDB would resolve relative file paths against our working folder: make them
        // the flow folder's, as the cache key does.
        ARROW_ASSIGN_OR_RAISE(auto files, SqlFiles(task.sql));
        ARROW_ASSIGN_OR_RAISE(auto sql, SqlWithResolvedFiles(task.sql, files, config_.dir));
        return tx->WriteSql(task.name, sql, task.inputs, task.table);
      }
      case TaskKind::kRead: {
        const std::string format =
            task.read_format.empty() ? FormatOf(task.read_uri) : task.read_format;
        if (format.empty()) {
          return arrow::Status::Invalid(
              fmt::format("cannot tell the format of '{}': set read.format (csv, jsonl or parquet)",
                          task.read_uri));
        }
        sources::FileSource source(&store_->storage(), format, task.read_uri, task.name,
                                   task.read_options);
        TableSink sink(tx, store_, task);
        ARROW_RETURN_NOT_OK(source.Run(&sink));
        ARROW_ASSIGN_OR_RAISE(auto record, sink.Finish());
        return tx->AddWritten(task.name, std::move(record));
      }
      case TaskKind::kExec: {
        ExecLaunch launch;
        launch.argv = task.exec_argv;
        launch.working_dir = config_.dir;
        launch.env = storage::StorageEnvironment(config_.storage);
        for (const auto& ref : task.inputs) {
          ARROW_ASSIGN_OR_RAISE(const TableRecord* record, tx->Resolve(ref));
          auto& files = launch.input_files[ref.ToString()];
          for (const auto& file : record->files) {
            files.push_back(tablestore::DuckDbPath(store_->base().Join(file.path)));
          }
        }
        if (!task.stdin_input.empty()) {
          ARROW_ASSIGN_OR_RAISE(auto ref, ParseTableRef(task.stdin_input));
          ARROW_ASSIGN_OR_RAISE(launch.stdin_table, tx->ReadTable(ref));
        }
        ARROW_ASSIGN_OR_RAISE(auto reader, StartExecProgram(launch));
        return tx->WriteTable(task.name, *reader, task.table);
      }
      case TaskKind::kIngest:
        return CopyIngested(task, tx);
    }
    return arrow::Status::Invalid("unknown task kind");
  }

  /// The pipeline's files for the stream, copied into the slot (server-side when the
  /// bucket is on the store's filesystem).
  arrow::Result<TableRecord> CopyIngested(const TaskConfig& task, StageTransaction* tx) {
    const auto& ingested = ingested_.at(task.name);
    if (ingested.files.empty()) {
      return arrow::Status::Invalid(fmt::format("'{}' has no data files yet", ingested.key));
    }
    const std::string dir = store_->TableDir(tx->stage(), tx->slot(), task.name);
    TableRecord record;
    for (size_t i = 0; i < ingested.files.size(); ++i) {
      const std::string relative = fmt::format("{}/{}-{:04d}.parquet", dir, tx->file_stem(), i);
      ARROW_RETURN_NOT_OK(store_->storage().Copy(ingested.files[i], store_->base().Join(relative)));
      common::Sha256 fingerprint;
      fingerprint.Update(fmt::format("{}:{}", ingested.files[i].ToString(), ingested.bytes[i]));
      record.files.push_back(
          {relative, ingested.rows[i], ingested.bytes[i], fingerprint.HexDigest()});
      record.rows += ingested.rows[i];
      record.bytes += ingested.bytes[i];
    }
    ARROW_ASSIGN_OR_RAISE(auto reader, store_->ReadFiles(record));
    for (const auto& column : lake::ColumnsOf(*reader->schema())) {
      record.schema_json.push_back(
          {{"name", column.name}, {"type", column.type}, {"nullable", column.nullable}});
    }
    record.content_hash = tablestore::ContentHash(record.files);
    return tx->AddWritten(task.name, std::move(record));
  }

  static std::string FormatOf(const std::string& uri) {
    auto ends = [&](std::initializer_list<const char*> suffixes) {
      for (const char* s : suffixes) {
        if (uri.ends_with(s)) return true;
      }
      return false;
    };
    if (ends({".csv", ".csv.gz"})) return "csv";
    if (ends({".jsonl", ".ndjson", ".json", ".jsonl.gz", ".jsonl.zst", ".ndjson.gz", ".json.gz"}))
      return "jsonl";
    if (ends({".parquet"})) return "parquet";
    return "";
  }

  const FlowConfig& config_;
  const FlowRunOptions& options_;
  const TaskSelection& selection_;
  tablestore::TableStore* store_;
  tablestore::StageLocks* locks_;
  const std::string& run_id_;
  const TaskCallback& on_task_;
  std::mutex report_mutex_;
  std::map<std::string, IngestedTable> ingested_;  ///< by task, for the current stage
  std::mutex parser_mutex_;  ///< guards parser_ and sql_files_ (tasks run on threads)
  std::unique_ptr<duckdb::Database> parser_;
  std::map<std::string, std::vector<SqlFileReference>> sql_files_;  ///< by SQL text
};

// Called holding the lock of every stage: no other run of the instance is alive, so a run
// still recorded as running was killed (or its machine lost) before it could say how it
// ended. Recorded as abandoned, with the time it was found, instead of running forever.
arrow::Status CloseDeadRuns(tablestore::TableStore* store) {
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store->Load());
  for (auto& run : snapshot.runs) {
    if (run.status != "running") continue;
    run.status = "abandoned";
    run.finished_at = IsoUtc(std::chrono::system_clock::now());
    run.error = "the process running it stopped before the run finished (killed or crashed)";
    spdlog::warn("flow run {} of {} stopped before it finished: recorded as abandoned", run.run_id,
                 run.instance);
    ARROW_RETURN_NOT_OK(store->metadata().SaveRun(run));
  }
  return arrow::Status::OK();
}

/// The end of a --keep-going run with failures: one line with every failure (each naming
/// flow, stage and task), what did not commit, what did not run and what committed.
arrow::Status KeepGoingFailure(const FlowConfig& config, const std::vector<arrow::Status>& failures,
                               const std::vector<std::string>& failed_stages,
                               const std::vector<std::string>& not_run,
                               const std::vector<std::string>& committed) {
  auto join = [](const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
  };
  std::string text = fmt::format(
      "flow '{}': {} failure{} (--keep-going); not committed: {} "
      "(their committed slots stay live)",
      config.name, failures.size(), failures.size() == 1 ? "" : "s", join(failed_stages));
  if (!not_run.empty()) text += fmt::format("; not run: {}", join(not_run));
  text += fmt::format("; committed: {}", committed.empty() ? "none" : join(committed));
  for (size_t i = 0; i < failures.size(); ++i) {
    text += fmt::format("; ({}) {}", i + 1, failures[i].message());
  }
  return failures.front().WithMessage(text);
}

}  // namespace

arrow::Status ResolveTaskInputs(FlowConfig* config) {
  ARROW_ASSIGN_OR_RAISE(auto parser, duckdb::Database::Open({}));
  // Keyed as DuckDB compares names, so "RAW.orders" in SQL is the stage raw's table.
  std::map<std::string, size_t> stage_index;
  for (size_t i = 0; i < config->stages.size(); ++i) {
    stage_index[NameKey(config->stages[i].name)] = i;
  }
  // A reference spelled as the flow file spells the stage and the task it names.
  auto as_in_flow = [&](TableRef ref) {
    auto it = stage_index.find(NameKey(ref.stage));
    if (it == stage_index.end()) return ref;
    const auto& source = config->stages[it->second];
    ref.stage = source.name;
    for (const auto& t : source.tasks) {
      if (NameKey(t.name) == NameKey(ref.table)) ref.table = t.name;
    }
    return ref;
  };
  for (size_t s = 0; s < config->stages.size(); ++s) {
    auto& stage = config->stages[s];
    std::set<std::string> names;
    for (const auto& task : stage.tasks) names.insert(task.name);
    for (auto& task : stage.tasks) {
      auto fail = [&](const std::string& message) {
        return arrow::Status::Invalid(fmt::format("flow '{}', stage '{}', task '{}' ({}:{}): {}",
                                                  config->name, stage.name, task.name, config->file,
                                                  task.line, message));
      };
      for (auto& ref : task.inputs) ref = as_in_flow(ref);
      if (auto ref = ParseTableRef(task.stdin_input); ref.ok()) {
        task.stdin_input = as_in_flow(*ref).ToString();
      }
      if (task.kind == TaskKind::kSql) {
        auto refs = TableReferences(*parser, task.sql);
        if (!refs.ok()) return fail(refs.status().message());
        for (const auto& found : *refs) {
          const TableRef ref = as_in_flow(found);
          if (std::find(task.inputs.begin(), task.inputs.end(), ref) == task.inputs.end()) {
            task.inputs.push_back(ref);
          }
        }
      }
      for (const auto& ref : task.inputs) {
        auto it = stage_index.find(NameKey(ref.stage));
        if (it == stage_index.end()) {
          return fail(fmt::format("'{}' names no stage of the flow", ref.ToString()));
        }
        if (it->second > s) {
          return fail(fmt::format("'{}' is in a later stage", ref.ToString()));
        }
        const auto& source = config->stages[it->second];
        const bool produced = std::any_of(source.tasks.begin(), source.tasks.end(),
                                          [&](const TaskConfig& t) { return t.name == ref.table; });
        if (!produced) {
          return fail(fmt::format("'{}' is not produced by any task", ref.ToString()));
        }
        if (ref.stage == stage.name && ref.table == task.name) {
          return fail("a task cannot read its own table");
        }
      }
    }
    // A cycle inside the stage: repeatedly remove tasks whose same-stage inputs are gone.
    std::set<std::string> left = names;
    for (bool progress = true; progress && !left.empty();) {
      progress = false;
      for (const auto& task : stage.tasks) {
        if (!left.contains(task.name)) continue;
        const bool blocked = std::any_of(
            task.inputs.begin(), task.inputs.end(),
            [&](const TableRef& r) { return r.stage == stage.name && left.contains(r.table); });
        if (!blocked) {
          left.erase(task.name);
          progress = true;
        }
      }
    }
    if (!left.empty()) {
      std::string cycle;
      for (const auto& name : left) cycle += (cycle.empty() ? "" : ", ") + name;
      return arrow::Status::Invalid(
          fmt::format("flow '{}', stage '{}': tasks {} depend on each "
                      "other in a cycle",
                      config->name, stage.name, cycle));
    }
  }
  return arrow::Status::OK();
}

arrow::Result<FlowRunResult> RunFlow(const FlowConfig& input, const FlowRunOptions& options,
                                     const TaskCallback& on_task) {
  const auto start = Clock::now();
  FlowConfig config = input;
  ARROW_RETURN_NOT_OK(ResolveTaskInputs(&config));
  ARROW_ASSIGN_OR_RAISE(auto selection,
                        SelectTasks(config, options.stages, options.tasks, options.with_upstream));
  const auto& stages = selection.stages();
  if (stages.empty()) {
    return arrow::Status::Invalid(
        fmt::format("flow '{}' ({}) has no stages", config.name, config.file));
  }
  ARROW_ASSIGN_OR_RAISE(auto store, tablestore::TableStore::Open(config.store, config.storage));
  FlowRunResult result;
  result.run_id = NewRunId();
  result.instance = config.store.instance;
  tablestore::RunRecord run{result.run_id, store->MetadataInstance(), config.name,
                            IsoUtc(std::chrono::system_clock::now())};
  std::vector<std::string> names;
  for (const auto* stage : stages) names.push_back(stage->name);
  ARROW_ASSIGN_OR_RAISE(auto locks, store->Lock(names));
  if (stages.size() == config.stages.size()) ARROW_RETURN_NOT_OK(CloseDeadRuns(store.get()));
  ARROW_RETURN_NOT_OK(store->PublishCatalogIfStale());
  StageRunner runner(config, options, selection, store.get(), locks.get(), result.run_id, on_task);
  {
    ARROW_ASSIGN_OR_RAISE(auto snapshot, store->Load());
    auto why_stale = [&](const std::string& stage, const TaskConfig& task,
                         const std::set<TableRef>& stale) {
      return runner.WhyStale(stage, task, snapshot, stale);
    };
    ARROW_ASSIGN_OR_RAISE(result.warnings, CheckUpstream(config, selection, snapshot, why_stale));
    for (const auto& warning : result.warnings) spdlog::warn("{}", warning);
  }
  ARROW_RETURN_NOT_OK(store->metadata().SaveRun(run));
  arrow::Status status;
  bool recorded = false;
  std::vector<arrow::Status> failures;  // with keep_going
  std::set<std::string> failed;         // stages that did not commit, or did not run
  std::vector<std::string> failed_stages, not_run, committed;
  for (const auto* stage : stages) {
    std::string reads;
    if (options.keep_going && selection.ReadsAny(*stage, failed, &reads)) {
      failed.insert(stage->name);
      not_run.push_back(fmt::format("stage '{}' (it reads stage '{}')", stage->name, reads));
      continue;
    }
    const bool last = stage == stages.back() && failures.empty();
    auto outcome = runner.Run(*stage, last ? &run : nullptr);
    if (!outcome.ok()) {
      status = outcome.status();
      if (!options.keep_going || status.IsCancelled()) break;
      failures.push_back(status);
    } else if (!outcome->failures.empty()) {
      failures.insert(failures.end(), outcome->failures.begin(), outcome->failures.end());
      not_run.insert(not_run.end(), outcome->not_run.begin(), outcome->not_run.end());
    } else {
      recorded = outcome->recorded_run;
      committed.push_back(stage->name);
      result.stages.push_back(std::move(*outcome));
      continue;
    }
    failed.insert(stage->name);
    failed_stages.push_back(stage->name);
  }
  if (!failures.empty() && !status.IsCancelled()) {
    status = KeepGoingFailure(config, failures, failed_stages, not_run, committed);
  }
  if (recorded) {
    // The last stage's commit recorded the finished run and published the catalog with it.
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  }
  run.finished_at = IsoUtc(std::chrono::system_clock::now());
  run.status = status.ok() ? "succeeded" : (status.IsCancelled() ? "cancelled" : "failed");
  run.error = status.ok() ? "" : status.message();
  auto saved = store->metadata().SaveRun(run);
  if (saved.ok()) saved = store->PublishCatalog();
  ARROW_RETURN_NOT_OK(status);
  ARROW_RETURN_NOT_OK(saved);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace lakepipe::flow
