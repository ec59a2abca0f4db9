#include "lakepipe/duckdb/batch_sql.h"

#include "lakepipe/duckdb/arrow_result.h"

#include <duckdb.h>

#include <arrow/c/bridge.h>
#include <arrow/record_batch.h>
#include <fmt/format.h>

namespace lakepipe::duckdb {

struct BatchSql::Handles {
  duckdb_database db = nullptr;
  duckdb_connection conn = nullptr;
  ~Handles() {
    if (conn != nullptr) duckdb_disconnect(&conn);
    if (db != nullptr) duckdb_close(&db);
  }
};

namespace {

// Owns a duckdb_result for the duration of a scope.
struct ResultGuard {
  duckdb_result result{};
  ~ResultGuard() { duckdb_destroy_result(&result); }
};

}  // namespace

BatchSql::BatchSql(std::unique_ptr<Handles> handles, std::string sql)
    : handles_(std::move(handles)), sql_(std::move(sql)) {}

BatchSql::~BatchSql() = default;

arrow::Result<std::unique_ptr<BatchSql>> BatchSql::Make(std::string sql) {
  auto handles = std::make_unique<Handles>();
  if (duckdb_open(nullptr, &handles->db) != DuckDBSuccess ||
      duckdb_connect(handles->db, &handles->conn) != DuckDBSuccess) {
    return arrow::Status::IOError("DuckDB: cannot open an in-memory database for the transform");
  }
  // One thread: batches are small and the pipeline already runs parse and write in parallel.
  duckdb_result result;
  duckdb_query(handles->conn, "SET threads = 1", &result);
  duckdb_destroy_result(&result);
  return std::unique_ptr<BatchSql>(new BatchSql(std::move(handles), std::move(sql)));
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
  if (duckdb_arrow_scan(handles_->conn, "lakepipe_input",
                        reinterpret_cast<duckdb_arrow_stream>(&stream)) != DuckDBSuccess) {
    if (stream.release) stream.release(&stream);
    return arrow::Status::Invalid("DuckDB: cannot register the batch as table 'batch'");
  }
  auto execute = [&](const char* sql) -> arrow::Status {
    ResultGuard guard;
    if (duckdb_query(handles_->conn, sql, &guard.result) == DuckDBSuccess) return arrow::Status::OK();
    const char* message = duckdb_result_error(&guard.result);
    return arrow::Status::Invalid(fmt::format("DuckDB: {}", message ? message : "query failed"));
  };
  auto copied = execute("CREATE OR REPLACE TEMP TABLE batch AS SELECT * FROM lakepipe_input");
  auto dropped = execute("DROP VIEW IF EXISTS lakepipe_input");
  if (stream.release) stream.release(&stream);
  ARROW_RETURN_NOT_OK(copied);
  ARROW_RETURN_NOT_OK(dropped);

  duckdb_result query;
  if (duckdb_query(handles_->conn, sql_.c_str(), &query) != DuckDBSuccess) {
    const char* message = duckdb_result_error(&query);
    auto status = arrow::Status::Invalid(fmt::format("DuckDB: {}", message ? message : "query failed"));
    duckdb_destroy_result(&query);
    return status;
  }
  ARROW_ASSIGN_OR_RAISE(auto result, ReadResultAsArrow(&query));  // owns the result now
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
