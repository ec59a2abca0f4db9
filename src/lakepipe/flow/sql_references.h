#pragma once

#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/table_store.h"

namespace lakepipe::flow {

/// The `stage.table` references of a SQL query, found by DuckDB's own parser
/// (json_serialize_sql), never by pattern matching: names inside strings, comments and
/// CTEs are not references; a CTE shadows nothing with a schema. Sorted, unique.
/// A syntax error is Invalid with DuckDB's message and position.
arrow::Result<std::vector<tablestore::TableRef>> TableReferences(duckdb::Database& db,
                                                                 const std::string& sql);

}  // namespace lakepipe::flow
