#pragma once

#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/lake/table_entry.h"
#include "lakepipe/pipeline/home.h"
#include "lakepipe/pipeline/ingest_runner.h"
#include "lakepipe/pipeline/pipeline_config.h"
#include "lakepipe/storage/uri.h"

namespace lakepipe::pipeline {

/// Pipeline `name` of `home` as every run takes it: its file (IOError "pipeline 'x' not
/// found" when there is none), with the --storage file `storage_file` ("" = none) merged
/// over its storage settings.
arrow::Result<PipelineConfig> LoadHomePipeline(const Home& home, const std::string& name,
                                               const std::string& storage_file);

/// What a run committed.
struct CommittedRun {
  RunResult result;
  /// The first destination's bucket: the entries' file paths are relative to it.
  storage::Uri bucket;
  /// The entry of each stream the run saw, as that bucket's manifest holds it after the
  /// run, in stream order (a stream whose table was never committed has none).
  std::vector<lake::TableEntry> tables;

  /// The entry of `table`, or null.
  const lake::TableEntry* FindTable(const std::string& table) const;
};

/// Runs `config` once (RunPipeline) holding its run lock under `home`: the one way the
/// run command, the demo and a flow's ingest task run a pipeline. Errors of opening its
/// storage name the pipeline; "already running" when another process holds the lock.
arrow::Result<CommittedRun> RunPipelineLocked(const PipelineConfig& config, const Home& home,
                                              const RunOptions& options);

}  // namespace lakepipe::pipeline
