#include "lakepipe/pipeline/ingest_runner.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/run_id.h"
#include "lakepipe/common/crash_point.h"
#include "lakepipe/common/error_subject.h"
#include "lakepipe/common/time_format.h"
#include "lakepipe/duckdb/batch_sql.h"
#include "lakepipe/lake/manifest_store.h"
#include "lakepipe/lake/run_journal.h"
#include "lakepipe/pipeline/boundary_filter.h"
#include "lakepipe/pipeline/destination_writer.h"
#include "lakepipe/pipeline/python_transform.h"
#include "lakepipe/pipeline/source_factory.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::pipeline {
namespace {

using Clock = std::chrono::system_clock;

// Work for the writer thread: a schema change or a batch of a stream.
struct WriteJob {
  std::string stream;
  std::shared_ptr<arrow::Schema> schema;  // set for a schema change
  std::shared_ptr<arrow::RecordBatch> batch;
};

// Parses on the source's thread and encodes Parquet on this one, so the two overlap; the
// queue is bounded so memory stays at a few batches whatever the input size.
class WriterThread {
 public:
  explicit WriterThread(std::vector<std::unique_ptr<DestinationWriter>>* destinations)
      : destinations_(destinations), thread_([this] { Loop(); }) {}
  ~WriterThread() { Stop(); }

  arrow::Status Push(WriteJob job) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return jobs_.size() < kCapacity || !status_.ok(); });
    if (!status_.ok()) return status_;
    jobs_.push_back(std::move(job));
    ready_.notify_one();
    return arrow::Status::OK();
  }

  // Waits until every job is written; returns the first writer error.
  arrow::Status Drain() {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return (jobs_.empty() && !busy_) || !status_.ok(); });
    return status_;
  }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      ready_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  static constexpr size_t kCapacity = 4;

  void Loop() {
    for (;;) {
      WriteJob job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        busy_ = true;
      }
      arrow::Status status = Apply(job);
      std::lock_guard lock(mutex_);
      busy_ = false;
      if (!status.ok() && status_.ok()) status_ = status;
      if (!status_.ok()) jobs_.clear();
      space_.notify_all();
    }
  }

  arrow::Status Apply(const WriteJob& job) {
    for (auto& destination : *destinations_) {
      if (job.schema) {
        ARROW_RETURN_NOT_OK(destination->OnSchema(job.stream, job.schema));
      } else {
        ARROW_RETURN_NOT_OK(destination->Write(job.stream, *job.batch));
      }
    }
    return arrow::Status::OK();
  }

  std::vector<std::unique_ptr<DestinationWriter>>* destinations_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<WriteJob> jobs_;
  bool busy_ = false;
  bool stopping_ = false;
  arrow::Status status_;
  std::thread thread_;
};

// Takes what the source produces, applies the pipeline's transforms (SQL, then Python),
// counts, and hands batches to the writer thread. A stream's schema is announced to the
// writers when it first differs from what they have: at SCHEMA time without a Python
// transform, with the first transformed batch otherwise (pandas decides the types).
class RunSink : public sources::IngestSink {
 public:
  RunSink(WriterThread* writer, RunResult* result, const PipelineConfig& config,
          const RunOptions& options, BoundaryFilter* boundaries,
          std::unique_ptr<duckdb::BatchSql> sql, std::unique_ptr<PythonTransform> python)
      : writer_(writer),
        result_(result),
        config_(config),
        options_(options),
        boundaries_(boundaries),
        sql_(std::move(sql)),
        python_(std::move(python)) {}

  arrow::Status OnKeys(const std::string& stream, const std::vector<std::string>& key_properties,
                       const std::vector<std::string>& bookmark_properties) override {
    StreamKeys keys{key_properties, config_.ReplicationKeyOf(stream)};
    if (keys.replication_key.empty() && !bookmark_properties.empty()) {
      keys.replication_key = bookmark_properties.front();
    }
    if (config_.incremental) {
      boundaries_->SetKeys(stream, keys.replication_key, keys.key_properties);
    }
    result_->keys[stream] = std::move(keys);
    return arrow::Status::OK();
  }

  arrow::Status OnSchema(const std::string& stream,
                         const std::shared_ptr<arrow::Schema>& schema) override {
    result_->streams[stream];  // a stream with no records is still a table
    // Sources that name no keys (the built-in readers) have the pipeline's replication key.
    if (!result_->keys.contains(stream)) ARROW_RETURN_NOT_OK(OnKeys(stream, {}, {}));
    std::shared_ptr<arrow::Schema> output = schema;
    if (sql_) {
      ARROW_ASSIGN_OR_RAISE(output, InStream(stream, sql_->OutputSchema(schema)));
    }
    if (python_) return arrow::Status::OK();
    return Announce(stream, output);
  }

  arrow::Status OnBatch(const std::string& stream,
                        const std::shared_ptr<arrow::RecordBatch>& batch) override {
    if (options_.cancel && options_.cancel->load())
      return arrow::Status::Cancelled("run cancelled");
    // Rows at the bookmark that a committed run holds already are not appended again;
    // before the transforms, which may drop the key columns.
    ARROW_ASSIGN_OR_RAISE(auto fresh, boundaries_->Apply(stream, batch));
    // Untransformed data is never written: a failing transform fails the run.
    std::vector<std::shared_ptr<arrow::RecordBatch>> batches = {fresh};
    if (sql_) {
      ARROW_ASSIGN_OR_RAISE(batches, InStream(stream, sql_->Apply(fresh)));
    }
    if (python_) {
      std::vector<std::shared_ptr<arrow::RecordBatch>> transformed;
      for (const auto& b : batches) {
        ARROW_ASSIGN_OR_RAISE(auto out, InStream(stream, python_->Apply(b)));
        transformed.insert(transformed.end(), out.begin(), out.end());
      }
      batches = std::move(transformed);
    }
    for (const auto& b : batches) ARROW_RETURN_NOT_OK(Forward(stream, b));
    return arrow::Status::OK();
  }

  arrow::Status OnState(const nlohmann::json& state) override {
    state_ = state;
    return arrow::Status::OK();
  }

  /// Ends the Python worker; its failure fails the run.
  arrow::Status Finish() { return python_ ? python_->Finish() : arrow::Status::OK(); }

  const std::optional<nlohmann::json>& state() const { return state_; }

 private:
  template <typename T>
  static arrow::Result<T> InStream(const std::string& stream, arrow::Result<T> result) {
    if (result.ok()) return result;
    return Naming(result.status().WithMessage(fmt::format("transform of stream '{}': {}", stream,
                                                          result.status().message())),
                  Subject::Stream(stream));
  }

  arrow::Status Announce(const std::string& stream, const std::shared_ptr<arrow::Schema>& schema) {
    auto& announced = announced_[stream];
    if (announced && announced->Equals(*schema, /*check_metadata=*/true))
      return arrow::Status::OK();
    announced = schema;
    return writer_->Push({stream, schema, nullptr});
  }

  arrow::Status Forward(const std::string& stream,
                        const std::shared_ptr<arrow::RecordBatch>& batch) {
    if (batch->num_rows() == 0) return arrow::Status::OK();
    ARROW_RETURN_NOT_OK(Announce(stream, batch->schema()));
    auto& progress = result_->streams[stream];
    progress.records += batch->num_rows();
    for (const auto& column : batch->columns()) {
      for (const auto& buffer : column->data()->buffers) {
        if (buffer) progress.bytes += buffer->size();
      }
    }
    result_->total_records += batch->num_rows();
    ARROW_RETURN_NOT_OK(writer_->Push({stream, nullptr, batch}));
    if (options_.on_progress) options_.on_progress(result_->streams);
    return arrow::Status::OK();
  }

  WriterThread* writer_;
  RunResult* result_;
  const PipelineConfig& config_;
  const RunOptions& options_;
  BoundaryFilter* boundaries_;
  std::unique_ptr<duckdb::BatchSql> sql_;
  std::unique_ptr<PythonTransform> python_;
  std::map<std::string, std::shared_ptr<arrow::Schema>> announced_;
  std::optional<nlohmann::json> state_;
};

// The state's member that holds lakepipe's own bookkeeping (docs/FORMATS.md).
constexpr char kLakepipeStateKey[] = "lakepipe";

// Stores the run's boundaries beside the tap's bookmarks, and what they skipped in the log.
arrow::Status AddBoundaries(const BoundaryFilter& boundaries, std::optional<nlohmann::json>* state,
                            RunResult* result) {
  ARROW_ASSIGN_OR_RAISE(auto saved, boundaries.ToState());
  if (!saved.empty()) {
    if (!*state || !(*state)->is_object()) *state = nlohmann::json::object();
    (**state)[kLakepipeStateKey] = {{"boundaries", std::move(saved)}};
  }
  if (auto skipped = boundaries.DroppedRows(); !skipped.empty()) {
    if (!result->source.is_object()) result->source = nlohmann::json::object();
    result->source["rows_already_committed"] = std::move(skipped);
  }
  return arrow::Status::OK();
}

// The entry a table has after this run.
arrow::Result<lake::PendingCommit> PlanCommit(const PipelineConfig& config, bool full,
                                              const DestinationWriter& destination,
                                              storage::Storage* storage, const RunResult& result,
                                              const std::optional<nlohmann::json>& state) {
  lake::PendingCommit commit;
  const std::string now = IsoUtc(Clock::now());
  const std::string source = config.SourceName();
  for (const auto& [stream, output] : destination.outputs()) {
    lake::TableEntry entry = output.previous.value_or(lake::TableEntry{});
    entry.source = source;
    entry.table = stream;
    entry.location = lake::BucketLayout::TableLocation(destination.config().path, source, stream);
    entry.pipeline = config.name;
    entry.mode = full ? "full" : "incremental";
    if (auto keys = result.keys.find(stream); keys != result.keys.end()) {
      entry.key_properties = keys->second.key_properties;
      entry.replication_key = keys->second.replication_key;
    }
    const std::vector<parquet::Column> columns_before = entry.columns;
    std::vector<parquet::DataFileMeta> files = output.files;
    // The manifest keeps no checksum: the committed entry is what it holds.
    for (auto& f : files) f.checksum.clear();
    if (full) {
      // Replace everything under the table's folder, even files other tools wrote, but
      // only after the new files are committed (ApplyCommit deletes them last).
      ARROW_ASSIGN_OR_RAISE(auto existing,
                            storage->List(destination.layout().Resolve(entry.location), true));
      const std::string table_key = destination.layout().Resolve(entry.location).key();
      for (const auto& file : existing) {
        if (file.is_dir || !file.uri.Name().ends_with(".parquet")) continue;
        const std::string inside = file.uri.key().substr(table_key.size());
        // Only files of the table's own layout (its folder, or one dt= folder in it): a
        // deeper path is another tool's, or a symlink loop seen again (full refresh must
        // never delete the new files through one).
        if (!lake::BucketLayout::IsTableDataPath(inside)) continue;
        std::string relative = entry.location + inside;
        const bool is_new = std::any_of(files.begin(), files.end(),
                                        [&](const auto& f) { return f.path == relative; });
        if (!is_new) commit.replaced.push_back(relative);
      }
      entry.files = files;
    } else {
      entry.files.insert(entry.files.end(), files.begin(), files.end());
    }
    lake::UnifyColumns(&entry, columns_before, parquet::ColumnsOf(*output.schema));
    entry.total_rows = 0;
    for (const auto& f : entry.files) entry.total_rows += f.rows;
    entry.extractions += 1;
    entry.last_extraction = now;
    entry.last_extraction_rows = output.rows;
    entry.next_file_number = output.next_file_number;
    commit.entries.push_back(std::move(entry));
  }
  commit.state = state;
  commit.log = result.ToLog();
  return commit;
}

// DataSpoc Pipe's log name "2026-11-23T18-58-19" plus microseconds, so two runs in one
// second keep both logs and names still sort by time.
std::string LogStamp(Clock::time_point start) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(start.time_since_epoch()).count() %
      1'000'000;
  return fmt::format("{:%Y-%m-%dT%H-%M-%S}-{:06d}", std::chrono::floor<std::chrono::seconds>(start),
                     micros);
}

// Every error of a run names its pipeline, once (RunPipeline). Redacted: the message goes
// to the console and into the run log in the bucket.
arrow::Status Fail(const PipelineConfig& config, const arrow::Status& status) {
  return storage::RedactSecrets(WithSubject(status, Subject::Pipeline(config.name)));
}

}  // namespace

nlohmann::json RunResult::ToLog() const {
  nlohmann::json streams_json = nlohmann::json::object();
  for (const auto& [name, p] : streams) {
    streams_json[name] = {{"records", p.records}, {"bytes", p.bytes}};
  }
  nlohmann::json log = {{"pipeline", pipeline},
                        {"run_id", run_id},
                        {"started_at", started_at},
                        {"finished_at", finished_at},
                        {"duration_seconds", duration_seconds},
                        {"status", success ? "success" : "failure"},
                        {"streams", streams_json},
                        {"total_records", total_records}};
  if (!error.empty()) log["error"] = error;
  if (!source.is_null()) log["source"] = source;
  return log;
}

namespace {

// The run; RunPipeline below names the pipeline in its errors and leaves the failure log
// that its early returns skip.
arrow::Result<RunResult> RunSteps(const PipelineConfig& config, storage::Storage* storage,
                                  const RunOptions& options, Clock::time_point start,
                                  RunResult& result) {
  const bool full = options.full_refresh || !config.incremental;
  // An incremental pipeline's files are in dt= folders, a full refresh's (--full) too: a
  // root-level file beside dt= folders breaks readers that glob with hive partitioning
  // (DuckDB: "Hive partition mismatch"; DataSpoc Lens then misses rows).
  std::optional<std::string> dt;
  if (config.incremental) {
    dt = fmt::format("{:%Y-%m-%d}", std::chrono::floor<std::chrono::days>(start));
  }

  std::unique_ptr<duckdb::BatchSql> sql;
  if (!config.transform_sql.empty()) {
    ARROW_ASSIGN_OR_RAISE(sql, duckdb::BatchSql::Make(config.transform_sql));
  }
  std::unique_ptr<PythonTransform> python;
  if (!config.python_transform.empty()) {
    ARROW_ASSIGN_OR_RAISE(python, PythonTransform::Start(config.python_transform));
  }

  // Finish or undo what dead runs left, in every destination, before anything else.
  std::vector<lake::BucketLayout> layouts;
  for (const auto& d : config.destinations) {
    ARROW_ASSIGN_OR_RAISE(auto bucket, storage::Uri::Parse(d.bucket));
    layouts.emplace_back(bucket);
  }
  // The first destination last: the others' prepared journals ask its journal whether
  // their run committed.
  for (size_t i = layouts.size(); i-- > 0;) {
    ARROW_RETURN_NOT_OK(lake::RunJournal::RecoverDeadRuns(storage, layouts[i], config.name));
  }

  std::optional<nlohmann::json> state;
  if (!full) {
    const auto state_uri = layouts.front().StateUri(config.name);
    ARROW_ASSIGN_OR_RAISE(state, lake::ReadJsonDocumentIfExists(storage, state_uri));
  }
  // lakepipe's part of the state is not the tap's: it is taken out before the tap sees it.
  nlohmann::json saved_boundaries;
  if (state && state->is_object() && state->contains(kLakepipeStateKey)) {
    saved_boundaries = (*state)[kLakepipeStateKey].value("boundaries", nlohmann::json());
    state->erase(kLakepipeStateKey);
  }
  ARROW_ASSIGN_OR_RAISE(auto boundaries, BoundaryFilter::FromState(saved_boundaries));

  std::vector<lake::RunJournal> journals;
  for (const auto& layout : layouts) {
    ARROW_ASSIGN_OR_RAISE(auto journal, lake::RunJournal::Begin(storage, layout, config.name,
                                                                result.run_id, result.started_at));
    journals.push_back(std::move(journal));
  }
  std::vector<std::unique_ptr<DestinationWriter>> destinations;
  for (size_t i = 0; i < config.destinations.size(); ++i) {
    destinations.push_back(std::make_unique<DestinationWriter>(
        storage, config.destinations[i], config.SourceName(), &journals[i], dt));
  }

  arrow::Status status;
  std::optional<nlohmann::json> new_state;
  {
    WriterThread writer(&destinations);
    RunSink sink(&writer, &result, config, options, &boundaries, std::move(sql),
                 std::move(python));
    auto source = MakeSource(config, state, storage);
    if (source.ok()) {
      // Ctrl-C / SIGTERM only set a flag; this watcher turns it into Cancel(), which also
      // stops a tap that is quiet (the reading thread is blocked on its output).
      std::atomic<bool> source_done{false};
      std::thread watcher([&] {
        while (!source_done.load()) {
          if (options.cancel && options.cancel->load()) {
            (*source)->Cancel();
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      });
      status = (*source)->Run(&sink);
      source_done = true;
      watcher.join();
      result.source = (*source)->RunLogDetails();
    } else {
      status = source.status();
    }
    if (status.ok()) status = sink.Finish();
    arrow::Status drained = writer.Drain();
    if (status.ok()) status = drained;
    writer.Stop();
    new_state = sink.state();
  }
  if (status.ok()) status = AddBoundaries(boundaries, new_state ? &new_state : &state, &result);
  for (auto& destination : destinations) {
    if (status.ok()) status = destination->Finish();
  }

  const auto finish = Clock::now();
  result.finished_at = IsoUtc(finish);
  result.duration_seconds = std::chrono::duration<double>(finish - start).count();
  if (!status.ok()) {
    result.error = Fail(config, status).message();
    for (size_t i = 0; i < destinations.size(); ++i) {
      destinations[i]->Abort();
      // Undo now; if that fails too, the journal stays and the next run undoes it. The
      // run's own error is what the user must see; cleanup trouble is logged beside it.
      arrow::Status cleanup;
      for (const auto& path : journals[i].written()) {
        if (cleanup.ok()) cleanup = storage->Delete(layouts[i].Resolve(path));
      }
      if (cleanup.ok())
        cleanup = storage->DeleteTree(layouts[i].StagingDir(config.name, result.run_id));
      if (cleanup.ok()) cleanup = journals[i].Remove();
      auto logged = storage->WriteAll(layouts[i].LogUri(config.name, LogStamp(start)),
                                      result.ToLog().dump(2));
      if (!cleanup.ok()) spdlog::warn("cleaning up the failed run: {}", cleanup.message());
      if (!logged.ok()) spdlog::warn("writing the failure log: {}", logged.message());
    }
    return status;
  }

  result.success = true;
  CrashPoint("after-data-before-commit");
  std::vector<lake::PendingCommit> commits;
  for (size_t i = 0; i < destinations.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto commit, PlanCommit(config, full, *destinations[i], storage, result,
                                                  new_state ? new_state : state));
    commit.log_stamp = LogStamp(start);
    commit.run_id = result.run_id;
    commit.published = destinations[i]->publications();
    commits.push_back(std::move(commit));
  }
  // One commit point for every destination: the others' commits are prepared, then the
  // first destination's journal commits the run everywhere at once (RunJournal::Prepare).
  // Destinations then never differ by a run, and one state (the first's) serves them all.
  for (size_t i = 1; i < destinations.size(); ++i) {
    ARROW_RETURN_NOT_OK(journals[i].Prepare(commits[i], journals[0].uri()));
  }
  if (destinations.size() > 1) CrashPoint("after-prepare-before-commit");
  ARROW_RETURN_NOT_OK(journals[0].Commit(commits[0]));
  CrashPoint("after-journal-commit");
  for (size_t i = 0; i < destinations.size(); ++i) {
    auto applied = lake::ApplyCommit(storage, layouts[i], config.name, commits[i]);
    if (!applied.ok()) {
      return applied.WithMessage(
          fmt::format("{} (committed; the next run finishes publishing)", applied.message()));
    }
  }
  CrashPoint("after-commit-before-cleanup");
  // The first destination's journal last: while it exists, prepared ones can ask it.
  for (size_t i = destinations.size(); i-- > 0;) {
    ARROW_RETURN_NOT_OK(journals[i].Remove());
  }
  return result;
}

// Writes the failure log into every destination that has no log of this run yet (the
// failure path above writes its own, and a destination already committed keeps its
// success log), so `lakepipe status` shows the failure whenever the bucket takes a write.
void LeaveFailureLogs(const PipelineConfig& config, storage::Storage* storage,
                      Clock::time_point start, RunResult& result) {
  const auto finish = Clock::now();
  result.finished_at = IsoUtc(finish);
  result.duration_seconds = std::chrono::duration<double>(finish - start).count();
  for (const auto& d : config.destinations) {
    auto bucket = storage::Uri::Parse(d.bucket);
    if (!bucket.ok()) continue;  // checked when the file was loaded
    const auto uri = lake::BucketLayout(*bucket).LogUri(config.name, LogStamp(start));
    auto exists = storage->Exists(uri);
    if (exists.ok() && *exists) continue;
    // Usually the run's own error said why already (a read-only or dead bucket): -v only.
    auto logged = storage->WriteAll(uri, result.ToLog().dump(2));
    if (!logged.ok()) spdlog::debug("writing the failure log: {}", logged.message());
  }
}

}  // namespace

arrow::Result<RunResult> RunPipeline(const PipelineConfig& config, storage::Storage* storage,
                                     const RunOptions& options) {
  const auto start = Clock::now();
  RunResult result;
  result.pipeline = config.name;
  result.run_id = NewRunId(start);
  result.started_at = IsoUtc(start);
  spdlog::info("pipeline '{}': run {} starts{}", config.name, result.run_id,
               options.full_refresh ? " (full refresh)" : "");
  auto run = RunSteps(config, storage, options, start, result);
  if (run.ok()) {
    for (const auto& [stream, progress] : run->streams) {
      spdlog::info("pipeline '{}': stream '{}' committed, {} records", config.name, stream,
                   progress.records);
    }
  }
  if (!run.ok()) {
    const auto failed = Fail(config, run.status());
    result.success = false;
    result.error = failed.message();
    LeaveFailureLogs(config, storage, start, result);
    return failed;
  }
  return run;
}

}  // namespace lakepipe::pipeline
