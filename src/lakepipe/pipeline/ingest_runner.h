#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/pipeline/pipeline_config.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::pipeline {

/// Running totals of one stream.
struct StreamProgress {
  int64_t records = 0;
  int64_t bytes = 0;  ///< Arrow bytes handed to the writers (before compression)
};

struct RunOptions {
  /// Replace every table of the pipeline instead of appending (--full).
  bool full_refresh = false;
  /// Called from the run's thread after every batch.
  std::function<void(const std::map<std::string, StreamProgress>&)> on_progress;
  /// Set to true to stop the run (Ctrl-C): nothing is committed.
  const std::atomic<bool>* cancel = nullptr;
};

/// What identifies a stream's rows, as its source said (the manifest keeps it, so readers
/// can take the latest version of a row that was updated).
struct StreamKeys {
  std::vector<std::string> key_properties;
  std::string replication_key;
};

/// The outcome of a run, as its log records it.
struct RunResult {
  std::string pipeline;
  std::string run_id;
  bool success = false;
  std::string error;
  std::string started_at;
  std::string finished_at;
  double duration_seconds = 0;
  std::map<std::string, StreamProgress> streams;
  int64_t total_records = 0;
  /// What the source reported for the log (a tap's stderr), or null.
  nlohmann::json source;
  /// Per stream, when known.
  std::map<std::string, StreamKeys> keys;

  /// The log document (DataSpoc Pipe's fields plus run_id and bytes).
  nlohmann::json ToLog() const;
};

/// Runs a pipeline once: recovers dead runs, reads the source, writes every destination,
/// and commits in the contract's order (data files → manifest → state → log) through the
/// run journal. On failure nothing is committed, the run's files are removed and a
/// failure log is written; the returned Status is the error (the RunResult says the same).
///
/// The caller holds the pipeline's run lock (RunLock) for the whole call.
arrow::Result<RunResult> RunPipeline(const PipelineConfig& config, storage::Storage* storage,
                                     const RunOptions& options);

}  // namespace lakepipe::pipeline
