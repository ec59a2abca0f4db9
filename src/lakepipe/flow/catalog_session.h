#pragma once

// A read-only SQL session on a flow's published catalog: what `lakepipe sql`, the Python
// package's Flow.sql and the MCP server's query tool all open, so the three refuse the
// same statements and reach the same files.

#include <memory>
#include <string>

#include <arrow/result.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/flow/flow_config.h"

namespace lakepipe::flow {

/// Opens `config`'s catalog read-only (removing a stale WAL a client left beside it), with
/// the flow's storage as DuckDB secrets of this session only (the catalog file never holds
/// them), reading only under the flow's table base. Errors name the flow.
arrow::Result<std::unique_ptr<duckdb::Database>> OpenCatalogSession(const FlowConfig& config);

/// Checks that `sql` is one read-only statement with no credentials in it (errors name the
/// flow), for a session from OpenCatalogSession.
arrow::Status CheckCatalogQuery(const FlowConfig& config, duckdb::Database& session,
                                const std::string& sql);

}  // namespace lakepipe::flow
