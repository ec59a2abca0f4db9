#include "lakepipe/parquet/rolling_writer.h"

#include <spdlog/spdlog.h>

namespace lakepipe::parquet {

arrow::Status RollingParquetWriter::Write(const arrow::RecordBatch& batch) {
  if (batch.num_rows() == 0) return arrow::Status::OK();
  if (!current_) {
    ARROW_ASSIGN_OR_RAISE(auto slot, next_file_());
    ARROW_ASSIGN_OR_RAISE(current_,
                          ParquetFileWriter::Open(*storage_, slot.uri, schema_, options_));
    current_relative_ = std::move(slot.relative_path);
  }
  ARROW_RETURN_NOT_OK(current_->Write(batch));
  if (file_size_target_ > 0 && current_->bytes_written() >= file_size_target_) return Finish();
  return arrow::Status::OK();
}

arrow::Status RollingParquetWriter::Finish() {
  if (!current_) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(int64_t bytes, current_->Close());
  files_.push_back({current_relative_, current_->rows_written(), bytes, current_->sha256(),
                    ColumnsOf(*schema_)});
  spdlog::info("wrote '{}': {} rows, {} bytes", current_->uri().ToString(),
               current_->rows_written(), bytes);
  current_.reset();
  return arrow::Status::OK();
}

void RollingParquetWriter::Abort() {
  if (current_) current_->Abort();
  current_.reset();
}

}  // namespace lakepipe::parquet
