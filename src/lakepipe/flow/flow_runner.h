#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/flow/flow_config.h"

namespace lakepipe::flow {

struct FlowRunOptions {
  /// Run only these stages and tasks ("stage.task"); both empty: every task. The other
  /// tasks of a stage named by a task are carried into its new slot as committed.
  std::vector<std::string> stages;
  std::vector<std::string> tasks;
  /// Also run every stage the selection reads from, transitively (dbt's `+model`).
  /// Without it the selection reads those stages' committed tables: a stale one is a
  /// warning, one never committed an error, both reported before anything runs.
  bool with_upstream = false;
  /// After a task fails, still run the tasks and later stages that do not depend on it
  /// (pipedag's fail_fast: false); the run fails at the end listing every failure. A stage
  /// with a failed task never commits. false: stop at the first failure.
  bool keep_going = false;
  bool force = false;                ///< ignore the cache
  std::string home;                  ///< lakepipe home of ingest pipelines ("" = default)
  /// The --storage file, merged into ingest pipelines' storage as `lakepipe run` does
  /// ("" = none; the flow's own storage has it merged by whoever loaded the flow).
  std::string storage_file;
  const std::atomic<bool>* cancel = nullptr;
};

struct TaskOutcome {
  std::string stage;
  std::string task;
  std::string kind;
  std::string cache_key;
  bool cache_hit = false;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t files = 0;
  double seconds = 0;
  bool carried = false;  ///< not selected: its committed table copied into the new slot
};

struct StageOutcome {
  std::string stage;
  std::string slot;            ///< committed by this run
  bool metadata_only = false;  ///< every task was a cache hit: no slot switch, no copies
  bool recorded_run = false;   ///< the run's end was recorded with this stage's commit
  std::vector<TaskOutcome> tasks;
  /// With keep_going: the stage's failed tasks (each naming flow, stage and task) and the
  /// tasks not run because they read one; the stage did not commit.
  std::vector<arrow::Status> failures;
  std::vector<std::string> not_run;
};

struct FlowRunResult {
  std::string run_id;
  std::string instance;
  std::vector<StageOutcome> stages;
  /// Said before anything ran (also logged): stale upstream tables the run reads as
  /// committed, carried tasks never committed.
  std::vector<std::string> warnings;
  double seconds = 0;
};

/// Called as each task ends (from the task's thread; calls are serialized).
using TaskCallback = std::function<void(const TaskOutcome&)>;

/// Runs a flow (TABLESTORE.md): takes the locks of the stages it runs, then per stage in
/// file order computes cache keys, commits metadata only when every task is a hit, and
/// otherwise writes the uncommitted slot (hits by server-side copies, the rest by running
/// their tasks, independent ones concurrently up to max_parallel_tasks) and commits it.
/// Errors name the flow, stage and task; a failed stage leaves its committed slot live.
/// A selection (options.stages / tasks) is checked first: see FlowRunOptions.
arrow::Result<FlowRunResult> RunFlow(const FlowConfig& config, const FlowRunOptions& options,
                                     const TaskCallback& on_task = {});

}  // namespace lakepipe::flow
