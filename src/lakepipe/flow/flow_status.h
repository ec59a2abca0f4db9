#pragma once

// What a flow has committed (stages, their committed slots and tables, the runs) and what
// one run did, as JSON. One description for `lakepipe flow status` / `flow run` (text and
// JSON), the Python package and the MCP server.

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/flow/flow_config.h"
#include "lakepipe/flow/flow_runner.h"

namespace lakepipe::flow {

/// Reads the flow's metadata (never its data files) into
/// {"flow", "instance", "metadata", "catalog",
///  "stages": [{"stage", "committed_slot", "committed_at", "run_id",
///              "tables": [{"table", "rows", "bytes", "files", "version", "cache_hit"}]}],
///  "runs": [{"run_id", "started_at", "finished_at", "status", "error"}]}.
/// A stage never committed has an empty committed_slot and no tables.
arrow::Result<nlohmann::json> FlowStatus(const FlowConfig& config);

/// A finished run of `config` as {"flow", "instance", "run_id", "seconds", "catalog",
/// "warnings", "stages": [{"stage", "slot", "metadata_only", "tasks": [{"stage", "task",
/// "kind", "cache_hit", "rows", "bytes", "files", "seconds", "cache_key", "carried"}]}]}.
nlohmann::json FlowRunSummary(const FlowConfig& config, const FlowRunResult& result);

}  // namespace lakepipe::flow
