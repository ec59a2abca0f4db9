#pragma once

#include <set>
#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/flow/flow_config.h"

namespace lakepipe::flow {

/// Each task's inputs: the declared ones plus those its kind finds in its definition (a SQL
/// task's references, by DuckDB's parser), spelled as the flow file spells the stage and
/// task they name; checked against the flow (a reference to an unknown table, to a later
/// stage, to itself, or a cycle inside a stage is an error naming the task). Updates
/// `config` in place.
arrow::Status ResolveTaskInputs(FlowConfig* config);

/// The names of `stage`'s tasks that can never run because of a cycle through their inputs
/// in the stage: those in the cycle and those reading them (sorted); empty when there is no
/// cycle.
std::set<std::string> CyclicTasks(const StageConfig& stage);

}  // namespace lakepipe::flow
