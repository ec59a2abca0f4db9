#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include "lakepipe/storage/storage.h"

namespace lakepipe::parquet {

/// How a Parquet file is encoded. Defaults suit analytics readers (DuckDB, Spark, Polars).
struct ParquetWriteOptions {
  /// zstd | snappy | gzip | lz4 | none.
  std::string compression = "zstd";
  /// Codec level; -1 = the codec's default.
  int compression_level = -1;
  /// Rows per row group.
  int64_t row_group_rows = 1 << 20;
};

/// Streams every batch of `reader` into one Parquet file at `uri`, published atomically
/// (AtomicWriter): readers see the whole file or none. Memory stays at about one row
/// group. Returns the number of rows written.
arrow::Result<int64_t> WriteParquetFile(storage::Storage& storage, const storage::Uri& uri,
                                        arrow::RecordBatchReader& reader,
                                        const ParquetWriteOptions& options = {});

}  // namespace lakepipe::parquet
