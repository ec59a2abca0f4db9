#include "lakepipe/duckdb/arrow_result.h"

#include <duckdb.h>

#include <vector>

#include <arrow/c/bridge.h>
#include <arrow/device.h>
#include <fmt/format.h>

namespace lakepipe::duckdb {
namespace {

arrow::Status ErrorDataToStatus(duckdb_error_data error) {
  if (error == nullptr) return arrow::Status::OK();
  arrow::Status status;
  if (duckdb_error_data_has_error(error)) {
    status = arrow::Status::Invalid(fmt::format("DuckDB: {}", duckdb_error_data_message(error)));
  }
  duckdb_destroy_error_data(&error);
  return status;
}

class ResultReader : public arrow::RecordBatchReader {
 public:
  explicit ResultReader(duckdb_result* result) : result_(*result) {
    options_ = duckdb_result_get_arrow_options(&result_);
  }
  ~ResultReader() override {
    duckdb_destroy_arrow_options(&options_);
    duckdb_destroy_result(&result_);
  }

  arrow::Status Init() {
    const idx_t columns = duckdb_column_count(&result_);
    std::vector<duckdb_logical_type> types(columns);
    std::vector<const char*> names(columns);
    for (idx_t c = 0; c < columns; ++c) {
      types[c] = duckdb_column_logical_type(&result_, c);
      names[c] = duckdb_column_name(&result_, c);
    }
    ArrowSchema c_schema;
    auto status = ErrorDataToStatus(
        duckdb_to_arrow_schema(options_, types.data(), names.data(), columns, &c_schema));
    for (auto& t : types) duckdb_destroy_logical_type(&t);
    ARROW_RETURN_NOT_OK(status);
    ARROW_ASSIGN_OR_RAISE(schema_, arrow::ImportSchema(&c_schema));
    return arrow::Status::OK();
  }

  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    batch->reset();
    duckdb_data_chunk chunk = duckdb_fetch_chunk(result_);
    if (chunk == nullptr) return arrow::Status::OK();
    ArrowArray c_array;
    auto status = ErrorDataToStatus(duckdb_data_chunk_to_arrow(options_, chunk, &c_array));
    if (status.ok()) {
      // The Arrow view points into the chunk's vectors: copy it before the chunk goes.
      auto view = arrow::ImportRecordBatch(&c_array, schema_);
      auto owned = view.ok() ? (*view)->CopyTo(arrow::default_cpu_memory_manager()) : view;
      if (owned.ok()) {
        *batch = std::move(*owned);
      } else {
        status = owned.status();
      }
    }
    duckdb_destroy_data_chunk(&chunk);
    return status;
  }

 private:
  duckdb_result result_;
  duckdb_arrow_options options_ = nullptr;
  std::shared_ptr<arrow::Schema> schema_;
};

}  // namespace

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> ReadResultAsArrow(void* result) {
  auto reader = std::make_shared<ResultReader>(static_cast<duckdb_result*>(result));
  ARROW_RETURN_NOT_OK(reader->Init());
  return reader;
}

}  // namespace lakepipe::duckdb
