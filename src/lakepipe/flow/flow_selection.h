#pragma once

#include <functional>
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
  /// Whether a running task of `stage` reads a table of one of `stages` (other than
  /// `stage`); `*which` is then the first such stage.
  bool ReadsAny(const StageConfig& stage, const std::set<std::string>& stages,
                std::string* which) const;

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

/// Why the committed table of `stage`.`task` is not what running the task now would write
/// ("" when it is); `stale` holds the upstream tables already found stale.
using WhyStaleFn = std::function<arrow::Result<std::string>(
    const std::string& stage, const TaskConfig& task, const std::set<tablestore::TableRef>& stale)>;

/// Checked before a selection runs, over the tables it reads as committed
/// (UnselectedUpstream): any never committed is one error listing them all (with the flag
/// that builds them); each stale one (by `why_stale`, to a fixpoint: a table reading a stale
/// one is stale too) is a warning naming it, who reads it, why, and the flag that rebuilds
/// it. Carried tasks never committed are warnings too. Returns the warnings, in flow order.
arrow::Result<std::vector<std::string>> CheckUpstream(const FlowConfig& config,
                                                      const TaskSelection& selection,
                                                      const tablestore::MetadataSnapshot& snapshot,
                                                      const WhyStaleFn& why_stale);

}  // namespace lakepipe::flow
