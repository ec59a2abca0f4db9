#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include "lakepipe/duckdb/database.h"

namespace lakepipe::duckdb {

/// Runs one SQL query over record batches, one batch at a time, with the batch visible as
/// the table `batch` ("SELECT * EXCLUDE (ssn) FROM batch"). Used for per-pipeline
/// transforms, before anything is written. Batches go to DuckDB through the Arrow C data
/// interface (no copy) and come back the same way. Not thread-safe.
class BatchSql {
 public:
  static arrow::Result<std::unique_ptr<BatchSql>> Make(std::string sql);
  ~BatchSql();

  /// The query's result over `batch` (possibly several batches, possibly none).
  arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> Apply(
      const std::shared_ptr<arrow::RecordBatch>& batch);

  /// The schema the query produces for input `schema` (runs it over zero rows).
  arrow::Result<std::shared_ptr<arrow::Schema>> OutputSchema(
      const std::shared_ptr<arrow::Schema>& schema);

 private:
  BatchSql(std::unique_ptr<Database> db, std::string sql);
  arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> Run(
      const std::shared_ptr<arrow::RecordBatch>& batch, std::shared_ptr<arrow::Schema>* schema);

  std::unique_ptr<Database> db_;
  std::string sql_;
};

}  // namespace lakepipe::duckdb
