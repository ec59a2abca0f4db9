#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/flow/flow_config.h"

namespace lakepipe::flow {

/// The tasks one `flow run` executes (`--stage`, `--task`, `--with-upstream`).
class TaskSelection {
 public:
  /// The stages that run, in the flow's order.
  const std::vector<const StageConfig*>& stages() const { return stages_; }
  /// Whether `stage`.`task` runs; a task of a running stage that does not run is carried
  /// into the new slot as it is committed.
  bool Runs(const std::string& stage, const std::string& task) const;
  /// Whether every task of every stage runs.
  bool everything() const { return everything_; }

 private:
  friend arrow::Result<TaskSelection> SelectTasks(const FlowConfig&,
                                                  const std::vector<std::string>&,
                                                  const std::vector<std::string>&, bool);
  std::vector<const StageConfig*> stages_;
  std::map<std::string, std::set<std::string>> tasks_;  ///< running tasks by stage
  bool everything_ = false;
};

/// Resolves the selection against `config` (whose inputs ResolveTaskInputs filled; the
/// result points into it). No stage and no task: every task. `stages` selects whole stages,
/// `tasks` ("stage.task") single tasks. `with_upstream` adds, transitively, every stage a
/// selected task reads from (whole, as dbt's `+model` adds a model's parents) and, in a
/// stage of single tasks, the same-stage tasks they read. Unknown names are errors naming
/// the flow file.
arrow::Result<TaskSelection> SelectTasks(const FlowConfig& config,
                                         const std::vector<std::string>& stages,
                                         const std::vector<std::string>& tasks, bool with_upstream);

/// A table the run reads as committed because no selected task writes it.
struct UpstreamTable {
  tablestore::TableRef table;
  tablestore::TableRef read_by;      ///< the first task found reading it (selected or upstream)
  const TaskConfig* task = nullptr;  ///< the task that writes it
};

/// The tables the selected tasks read that the run does not write, and the tables those
/// are built from, transitively (a stale table two stages up makes its readers stale too),
/// in the flow's order.
std::vector<UpstreamTable> UnselectedUpstream(const FlowConfig& config,
                                              const TaskSelection& selection);

}  // namespace lakepipe::flow
