#include "lakepipe/duckdb/batch_sql.h"

#include <arrow/c/bridge.h>
#include <arrow/record_batch.h>
#include <fmt/format.h>

namespace lakepipe::duckdb {

BatchSql::BatchSql(std::unique_ptr<Database> db, std::string sql)
    : db_(std::move(db)), sql_(std::move(sql)) {}

BatchSql::~BatchSql() = default;

arrow::Result<std::unique_ptr<BatchSql>> BatchSql::Make(std::string sql) {
  ARROW_ASSIGN_OR_RAISE(auto db, Database::Open({}));
  // One thread: batches are small and the pipeline already parses and writes in parallel.
  ARROW_RETURN_NOT_OK(db->Execute("SET threads = 1"));
  return std::unique_ptr<BatchSql>(new BatchSql(std::move(db), std::move(sql)));
}

arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> BatchSql::Run(
    const std::shared_ptr<arrow::RecordBatch>& batch, std::shared_ptr<arrow::Schema>* schema) {
  // Register the batch as a view over a one-shot Arrow stream, then copy it into the temp
  // table `batch`. The copy is not optional: DuckDB pushes a query's column projection into
  // the view's scan and then reads the stream's columns by position, which a plain C
  // stream cannot honour (a query naming a subset of columns read the wrong buffers).
  // SELECT * reads every column in order.
  ARROW_ASSIGN_OR_RAISE(auto reader, arrow::RecordBatchReader::Make({batch}, batch->schema()));
  ArrowArrayStream stream;
  ARROW_RETURN_NOT_OK(arrow::ExportRecordBatchReader(reader, &stream));
  auto copied = db_->RegisterArrowView("lakepipe_input", &stream);
  if (copied.ok()) {
    copied = db_->Execute("CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM lakepipe_input");
  }
  auto dropped = db_->Execute("DROP VIEW IF EXISTS lakepipe_input");
  if (stream.release) stream.release(&stream);
  ARROW_RETURN_NOT_OK(copied);
  ARROW_RETURN_NOT_OK(dropped);

  ARROW_ASSIGN_OR_RAISE(auto result, db_->QueryArrow(sql_));
  *schema = result->schema();
  std::vector<std::shared_ptr<arrow::RecordBatch>> out;
  for (;;) {
    std::shared_ptr<arrow::RecordBatch> next;
    ARROW_RETURN_NOT_OK(result->ReadNext(&next));
    if (!next) return out;
    out.push_back(std::move(next));
  }
}

arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> BatchSql::Apply(
    const std::shared_ptr<arrow::RecordBatch>& batch) {
  std::shared_ptr<arrow::Schema> schema;
  return Run(batch, &schema);
}

arrow::Result<std::shared_ptr<arrow::Schema>> BatchSql::OutputSchema(
    const std::shared_ptr<arrow::Schema>& schema) {
  ARROW_ASSIGN_OR_RAISE(auto empty, arrow::RecordBatch::MakeEmpty(schema));
  std::shared_ptr<arrow::Schema> out;
  ARROW_RETURN_NOT_OK(Run(empty, &out).status());
  return out;
}

}  // namespace lakepipe::duckdb
