#pragma once

// Tables leave the engine as Arrow C streams in a PyCapsule, the Arrow PyCapsule interface
// that pyarrow, Polars, DuckDB and pandas (through pyarrow) read without a copy.

#include <memory>

#include <arrow/record_batch.h>
#include <nanobind/nanobind.h>

namespace lakepipe::python {

/// A PyCapsule named "arrow_array_stream" owning an ArrowArrayStream over `reader`. Whoever
/// consumes the stream moves it out (its release becomes null); a stream never consumed is
/// released with the capsule.
nanobind::capsule ExportStream(std::shared_ptr<arrow::RecordBatchReader> reader);

/// A reader that keeps `owner` alive as long as it is read (a DuckDB session whose query
/// result it streams, say).
std::shared_ptr<arrow::RecordBatchReader> KeepingAlive(
    std::shared_ptr<arrow::RecordBatchReader> reader, std::shared_ptr<void> owner);

}  // namespace lakepipe::python
