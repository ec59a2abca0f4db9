#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include "lakepipe/parquet/data_file_meta.h"
#include "lakepipe/parquet/parquet_file_writer.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::parquet {

/// Where the next file goes: its URI and the caller's name for it (e.g. the path relative
/// to the bucket). Called before each file is opened, so the caller can journal it first.
struct FileSlot {
  storage::Uri uri;
  std::string relative_path;
};
using NextFileFn = std::function<arrow::Result<FileSlot>()>;

/// Writes the batches of one table into a sequence of Parquet files, starting a new file
/// when the current one reaches `file_size_target_bytes`. Each file is published whole
/// when it is finished (ParquetFileWriter). Not thread-safe.
class RollingParquetWriter {
 public:
  RollingParquetWriter(storage::Storage* storage, std::shared_ptr<arrow::Schema> schema,
                       ParquetWriteOptions options, int64_t file_size_target_bytes,
                       NextFileFn next_file)
      : storage_(storage),
        schema_(std::move(schema)),
        options_(std::move(options)),
        file_size_target_(file_size_target_bytes),
        next_file_(std::move(next_file)) {}

  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }

  /// Appends a batch with this writer's schema.
  arrow::Status Write(const arrow::RecordBatch& batch);
  /// Finishes the open file, if any. The writer can go on with a new file afterwards.
  arrow::Status Finish();
  /// True while a file is open (between the first Write() after a Finish() and the next).
  bool has_open_file() const { return current_ != nullptr; }
  /// Files finished so far, each with its path as NextFile named it, its checksum and
  /// its columns (this writer's schema).
  const std::vector<DataFileMeta>& files() const { return files_; }
  /// Discards the open file (finished files stay; the caller's journal owns them).
  void Abort();

 private:
  storage::Storage* storage_;
  std::shared_ptr<arrow::Schema> schema_;
  ParquetWriteOptions options_;
  int64_t file_size_target_;
  NextFileFn next_file_;
  std::unique_ptr<ParquetFileWriter> current_;
  std::string current_relative_;
  std::vector<DataFileMeta> files_;
};

}  // namespace lakepipe::parquet
