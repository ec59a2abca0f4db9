#pragma once

// What a flow has committed: stages, their committed slots and tables, and the runs. One
// description for `lakepipe flow status` (text and JSON), the Python package and the MCP
// server.

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/flow/flow_config.h"

namespace lakepipe::flow {

/// Reads the flow's metadata (never its data files) into
/// {"flow", "instance", "metadata", "catalog",
///  "stages": [{"stage", "committed_slot", "committed_at", "run_id",
///              "tables": [{"table", "rows", "bytes", "files", "version", "cache_hit"}]}],
///  "runs": [{"run_id", "started_at", "finished_at", "status", "error"}]}.
/// A stage never committed has an empty committed_slot and no tables.
arrow::Result<nlohmann::json> FlowStatus(const FlowConfig& config);

}  // namespace lakepipe::flow
