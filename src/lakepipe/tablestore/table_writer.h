#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include "lakepipe/parquet/parquet_file_writer.h"
#include "lakepipe/storage/storage.h"
#include "lakepipe/storage/uri.h"
#include "lakepipe/tablestore/metadata.h"

namespace lakepipe::tablestore {

/// How a table is written (TABLESTORE.md §6); the flow file sets these per store and task.
struct TableOptions {
  parquet::ParquetWriteOptions parquet;          ///< codec, level, row-group size
  int64_t file_size_bytes = int64_t{256} << 20;  ///< files roll at this size
  std::vector<std::string> not_null;             ///< checked, and written as required fields
  std::vector<std::string> sort_by;              ///< applied by the query that produces the rows
  std::vector<std::string> partition_by;         ///< hive-style folders, in this order
  /// A write into more partition folders than this fails (each is at least one file; as
  /// Arrow's dataset writer, whose default this is). The `max_partitions:` option.
  int64_t max_partitions = 1024;
  /// Files open at once when partitioned: past it the least recently written one is
  /// finished, and its partition gets a new file when it has rows again. Each open file
  /// holds up to a row group, and on an object store up to 32 MiB not yet uploaded, so
  /// this bounds memory. The `max_open_files:` option.
  int64_t max_open_files = 64;
};

/// Writes batches of one schema as a table into Parquet files under `base`/`relative_dir`
/// (<stem>-0000.parquet, <stem>-0001.parquet, … or <col>=<value>/<stem>-NNNN.parquet when
/// partitioned; the stem is "part" unless given), holding about one row group per open file
/// in memory (at most `max_open_files` files are open). Columns in
/// `not_null` are written as required; a NULL in one fails with a message naming it. On
/// error the files already finished stay (the slot is uncommitted; begin stage and gc
/// remove them) and no partial file is visible. Not thread-safe.
class TableWriter {
 public:
  static arrow::Result<std::unique_ptr<TableWriter>> Make(
      storage::Storage& storage, storage::Uri base, std::string relative_dir,
      const std::shared_ptr<arrow::Schema>& schema, TableOptions options,
      std::string file_stem = "part");
  ~TableWriter();

  /// `batch` must have the schema given to Make() (nullability aside).
  arrow::Status Write(const arrow::RecordBatch& batch);
  /// Finishes the files and fills the record's files (paths relative to `base`), rows,
  /// bytes, schema_json, partition_by and content_hash.
  arrow::Status Finish(TableRecord* record);

 private:
  struct State;
  explicit TableWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// Every batch of `reader` through a TableWriter.
arrow::Status WriteTable(storage::Storage& storage, const storage::Uri& base,
                         const std::string& relative_dir, arrow::RecordBatchReader& reader,
                         const TableOptions& options, TableRecord* record,
                         const std::string& file_stem = "part");

/// `schema` with the `not_null` columns made non-nullable; Invalid naming a missing column.
arrow::Result<std::shared_ptr<arrow::Schema>> ApplyNotNull(
    const std::shared_ptr<arrow::Schema>& schema, const std::vector<std::string>& not_null);

/// Hive folder name for one partition value ("dt=2024-01-31"); NULL is
/// __HIVE_DEFAULT_PARTITION__, and characters that are special in paths are %-escaped.
std::string HivePartitionSegment(const std::string& column,
                                 const std::optional<std::string>& value);

}  // namespace lakepipe::tablestore
