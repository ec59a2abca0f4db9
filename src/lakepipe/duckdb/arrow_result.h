#pragma once

#include <memory>

#include <arrow/record_batch.h>
#include <arrow/result.h>

namespace lakepipe::duckdb {

/// Reads a DuckDB query result as Arrow record batches, one DuckDB chunk at a time (never
/// the whole result in memory), through DuckDB's Arrow C data interface. Takes ownership
/// of the result, which must be a `duckdb_result*` that succeeded (opaque here to keep
/// DuckDB's types out of headers). The batches own their memory.
arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> ReadResultAsArrow(void* duckdb_result);

}  // namespace lakepipe::duckdb
