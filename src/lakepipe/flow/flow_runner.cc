#include "lakepipe/flow/flow_runner.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/common/run_id.h"
#include "lakepipe/common/time_format.h"
#include "lakepipe/flow/flow_selection.h"
#include "lakepipe/flow/run_record.h"
#include "lakepipe/flow/sql_references.h"
#include "lakepipe/flow/task_graph.h"

namespace lakepipe::flow {
namespace {

using Clock = std::chrono::steady_clock;
using tablestore::StageTransaction;
using tablestore::TableRecord;
using tablestore::TableRef;

arrow::Status InTask(const arrow::Status& status, const FlowConfig& config,
                     const std::string& stage, const std::string& task) {
  return WithSubject(status, {Subject::Flow(config.name), Subject::Stage(stage), Subject::Task(task)});
}

arrow::Status InStage(const arrow::Status& status, const FlowConfig& config,
                      const std::string& stage) {
  return WithSubject(status, {Subject::Flow(config.name), Subject::Stage(stage)});
}

template <typename T>
arrow::Result<T> InStage(arrow::Result<T> result, const FlowConfig& config,
                         const std::string& stage) {
  if (result.ok()) return result;
  return InStage(result.status(), config, stage);
}

/// Inputs' content as `snapshot` has them committed.
InputContent CommittedContent(const tablestore::MetadataSnapshot& snapshot) {
  return [&snapshot](const TableRef& ref) -> arrow::Result<std::string> {
    const auto* s = snapshot.FindStage(ref.stage);
    const auto* t = s ? snapshot.FindTable(ref.stage, s->committed_slot, ref.table) : nullptr;
    if (!t) {
      return arrow::Status::KeyError(fmt::format("table '{}' is not committed", ref.ToString()));
    }
    return t->content_hash;
  };
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
    prepared_.clear();
    std::map<std::string, arrow::Status> failed;  // tasks whose preparation failed
    // Kinds that land data first (an ingest task runs its pipeline): their cache key is
    // what they landed.
    for (const auto& task : stage.tasks) {
      if (!task.kind->Prepares() || !selection_.Runs(stage.name, task.name)) continue;
      auto prepared = task.kind->Prepare(task, Context());
      if (!prepared.ok()) {
        auto failure = InTask(prepared.status(), config_, stage.name, task.name);
        if (!options_.keep_going) return failure;
        failed[task.name] = std::move(failure);
        continue;
      }
      prepared_[task.name] = std::move(*prepared);
    }
    ARROW_ASSIGN_OR_RAISE(auto snapshot, InStage(store_->Load(), config_, stage.name));
    const auto* committed = snapshot.FindStage(stage.name);
    if (!options_.force && committed && failed.empty()) {
      ARROW_ASSIGN_OR_RAISE(
          bool all_hits, InStage(AllCacheHits(stage, snapshot, *committed), config_, stage.name));
      if (all_hits) {
        spdlog::info("stage '{}': every task is a cache hit: a metadata-only commit", stage.name);
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
    spdlog::info("stage '{}': committed slot '{}'", stage.name, tx->slot());
    outcome.slot = tx->slot();
    outcome.recorded_run = finished.has_value();
    return outcome;
  }

  /// Why the committed table of `stage`.`task` is not what running the task now would
  /// write, "" when it is: its cache key computed now (from its inputs' committed tables)
  /// is the committed one and no input is in `stale`. Tasks whose kind prepares count as
  /// current (an ingest task's key needs the pipeline's run). The task must be committed.
  arrow::Result<std::string> WhyStale(const std::string& stage, const TaskConfig& task,
                                      const tablestore::MetadataSnapshot& snapshot,
                                      const std::set<TableRef>& stale) {
    const auto* committed = snapshot.FindStage(stage);
    const auto* previous = snapshot.FindTask(stage, committed->committed_slot, task.name);
    for (const auto& ref : task.inputs) {
      if (stale.contains(ref)) return fmt::format("its input '{}' is stale", ref.ToString());
    }
    if (task.kind->Prepares()) return std::string();
    ARROW_ASSIGN_OR_RAISE(auto key, TaskCacheKey(task, Context(), CommittedContent(snapshot)));
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
    return task.kind->WhatChanges() + " changed since it was committed";
  }

 private:
  /// What the tasks' kinds get from this run; `task` names the task at hand (its
  /// preparation), `tx` the stage being written.
  TaskContext Context(const TaskConfig* task = nullptr, StageTransaction* tx = nullptr) {
    TaskContext context;
    context.flow = &config_;
    context.store = store_;
    context.sql_files = &sql_files_;
    context.home = options_.home;
    context.storage_file = options_.storage_file;
    context.tx = tx;
    if (task) {
      auto it = prepared_.find(task->name);
      if (it != prepared_.end()) context.prepared = it->second.get();
    }
    return context;
  }

  /// Whether every task would be a cache hit, computing keys in task order with the
  /// committed tables as inputs.
  arrow::Result<bool> AllCacheHits(const StageConfig& stage,
                                   const tablestore::MetadataSnapshot& snapshot,
                                   const tablestore::StageRecord& committed) {
    for (const auto& task : stage.tasks) {
      if (!selection_.Runs(stage.name, task.name)) continue;  // carried as committed
      auto key = TaskCacheKey(task, Context(&task), CommittedContent(snapshot));
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
                       task.kind->kind(),
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
                       task.kind->kind(),
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

  /// For -v: why the task runs or is carried.
  std::string CacheDecision(bool hit, const tablestore::TaskRecord* previous,
                            const std::string& key) const {
    if (hit) return fmt::format("cache hit (key {}): the committed table is carried", key);
    if (options_.force) return "runs: --force";
    if (!previous) return "runs: no committed table";
    if (previous->cache_key != key) {
      return fmt::format("runs: cache key {} differs from the committed {}", key,
                         previous->cache_key);
    }
    return "runs: the committed slot lacks its table";
  }

  arrow::Result<TaskOutcome> RunTask(const TaskConfig& task, StageTransaction* tx,
                                     const tablestore::StageRecord* committed) {
    const auto start = Clock::now();
    auto content = [&](const TableRef& ref) -> arrow::Result<std::string> {
      ARROW_ASSIGN_OR_RAISE(const TableRecord* record, tx->Resolve(ref));
      return record->content_hash;
    };
    const TaskContext context = Context(&task, tx);
    ARROW_ASSIGN_OR_RAISE(auto key, TaskCacheKey(task, context, content));
    const auto& snapshot = tx->snapshot();
    const auto* previous =
        committed ? snapshot.FindTask(tx->stage(), committed->committed_slot, task.name) : nullptr;
    const bool hit = !options_.force && previous && previous->cache_key == key &&
                     snapshot.FindTable(tx->stage(), committed->committed_slot, task.name);
    spdlog::info("task '{}.{}': {}", tx->stage(), task.name, CacheDecision(hit, previous, key));
    TableRecord record;
    if (hit) {
      ARROW_ASSIGN_OR_RAISE(record, tx->CopyCommitted(task.name));
    } else {
      ARROW_ASSIGN_OR_RAISE(record, task.kind->Execute(task, context));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    spdlog::info("task '{}.{}': {} rows, {} bytes in {} file(s), {:.2f} s", tx->stage(), task.name,
                 record.rows, record.bytes, record.files.size(), seconds);
    tablestore::TaskRecord task_record;
    task_record.task = task.name;
    task_record.cache_key = key;
    task_record.version = task.version;
    task_record.output_json = {{"table", task.name},
                               {"cache_hit", hit},
                               {"seconds", seconds},
                               {"kind", task.kind->kind()}};
    tx->RecordTask(task_record);
    TaskOutcome outcome{tx->stage(),
                        task.name,
                        task.kind->kind(),
                        key,
                        hit,
                        record.rows,
                        record.bytes,
                        static_cast<int64_t>(record.files.size()),
                        seconds};
    Report(outcome);
    return outcome;
  }

  const FlowConfig& config_;
  const FlowRunOptions& options_;
  const TaskSelection& selection_;
  tablestore::TableStore* store_;
  tablestore::StageLocks* locks_;
  const std::string& run_id_;
  const TaskCallback& on_task_;
  std::mutex report_mutex_;
  /// By task, for the current stage: what its kind's Prepare() returned.
  std::map<std::string, std::shared_ptr<const TaskPreparation>> prepared_;
  FileReferenceCache sql_files_;  ///< the run's: SQL is parsed once
};

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
  result.run_id = NewRunId(std::chrono::system_clock::now());
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
