#include "lakepipe/tablestore/table_writer.h"

#include <algorithm>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include <arrow/array.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/compute/api.h>
#include <arrow/type.h>
#include <fmt/format.h>

#include "lakepipe/parquet/column.h"
#include "lakepipe/parquet/rolling_writer.h"
#include "lakepipe/tablestore/layout.h"

namespace lakepipe::tablestore {
namespace {

/// One rolling writer per partition folder ("" when not partitioned), at most
/// `max_partitions` of them, of which at most `max_open_files` have a file open.
class PartitionedWriter {
 public:
  PartitionedWriter(storage::Storage& storage, storage::Uri base, std::string relative_dir,
                    std::string file_stem, std::shared_ptr<arrow::Schema> file_schema,
                    const TableOptions& options)
      : storage_(storage),
        base_(std::move(base)),
        relative_dir_(std::move(relative_dir)),
        file_stem_(std::move(file_stem)),
        file_schema_(std::move(file_schema)),
        options_(options) {}

  arrow::Status Write(const std::string& folder, const arrow::RecordBatch& batch) {
    if (batch.num_rows() == 0) return arrow::Status::OK();
    auto it = partitions_.find(folder);
    if (it == partitions_.end()) {
      if (static_cast<int64_t>(partitions_.size()) >= options_.max_partitions) {
        return TooManyPartitions();
      }
      const std::string dir = folder.empty() ? relative_dir_ : relative_dir_ + "/" + folder;
      auto counter = std::make_shared<int>(0);
      parquet::NextFileFn next = [this, dir, counter]() -> arrow::Result<parquet::FileSlot> {
        const std::string relative = layout::DataFile(dir, file_stem_, (*counter)++);
        return parquet::FileSlot{base_.Join(relative), relative};
      };
      Partition partition;
      partition.writer = std::make_unique<parquet::RollingParquetWriter>(
          &storage_, file_schema_, options_.parquet, options_.file_size_bytes, std::move(next));
      partition.lru = open_.end();
      it = partitions_.emplace(folder, std::move(partition)).first;
    }
    Partition& partition = it->second;
    if (partition.lru != open_.end()) {
      open_.erase(partition.lru);  // written again: the most recently used
      partition.lru = open_.end();
    }
    // This write opens a file: make room first, finishing the least recently written.
    while (!partition.writer->has_open_file() &&
           static_cast<int64_t>(open_.size()) >= options_.max_open_files) {
      Partition& oldest = partitions_.at(open_.front());
      open_.pop_front();
      oldest.lru = open_.end();
      ARROW_RETURN_NOT_OK(oldest.writer->Finish());
    }
    ARROW_RETURN_NOT_OK(partition.writer->Write(batch));
    // A file that reached its size was finished by the rolling writer: no longer open.
    if (partition.writer->has_open_file()) partition.lru = open_.insert(open_.end(), it->first);
    return arrow::Status::OK();
  }

  arrow::Result<std::vector<parquet::DataFileMeta>> Finish() {
    std::vector<parquet::DataFileMeta> files;
    for (auto& [folder, partition] : partitions_) {
      ARROW_RETURN_NOT_OK(partition.writer->Finish());
      files.insert(files.end(), partition.writer->files().begin(),
                   partition.writer->files().end());
    }
    open_.clear();
    for (auto& [folder, partition] : partitions_) partition.lru = open_.end();
    return files;
  }

  void Abort() {
    for (auto& [folder, partition] : partitions_) partition.writer->Abort();
    open_.clear();
    for (auto& [folder, partition] : partitions_) partition.lru = open_.end();
  }

 private:
  struct Partition {
    std::unique_ptr<parquet::RollingParquetWriter> writer;
    std::list<std::string>::iterator lru;  ///< its place in open_, or open_.end()
  };

  arrow::Status TooManyPartitions() const {
    const size_t slash = relative_dir_.rfind('/');
    const std::string table =
        slash == std::string::npos ? relative_dir_ : relative_dir_.substr(slash + 1);
    std::string columns;
    for (const auto& column : options_.partition_by) {
      columns += (columns.empty() ? "" : ", ") + column;
    }
    return arrow::Status::Invalid(fmt::format(
        "table '{}' would have more than {} partitions (partition_by: {}); set "
        "max_partitions: in the task (or table_store) to allow more, or partition by "
        "coarser values",
        table, options_.max_partitions, columns));
  }

  storage::Storage& storage_;
  const storage::Uri base_;
  const std::string relative_dir_;
  const std::string file_stem_;
  const std::shared_ptr<arrow::Schema> file_schema_;
  const TableOptions& options_;
  std::map<std::string, Partition> partitions_;
  /// The folders whose writer has a file open, least recently written first.
  std::list<std::string> open_;
};

arrow::Status CheckNoNulls(const arrow::RecordBatch& batch, const std::vector<int>& columns,
                           int64_t rows_before) {
  for (int i : columns) {
    const auto& array = batch.column(i);
    if (array->null_count() == 0) continue;
    int64_t row = 0;
    while (row < array->length() && array->IsValid(row)) ++row;
    return arrow::Status::Invalid(fmt::format("column '{}' is not_null but row {} is NULL",
                                              batch.schema()->field(i)->name(),
                                              rows_before + row + 1));
  }
  return arrow::Status::OK();
}

/// Splits `batch` by the values of `partition_columns` into (folder, rows without those
/// columns) pieces.
arrow::Result<std::vector<std::pair<std::string, std::shared_ptr<arrow::RecordBatch>>>> Split(
    const arrow::RecordBatch& batch, const std::vector<int>& partition_columns,
    const std::vector<int>& data_columns, const std::shared_ptr<arrow::Schema>& file_schema) {
  std::vector<std::shared_ptr<arrow::StringArray>> keys;
  for (int i : partition_columns) {
    ARROW_ASSIGN_OR_RAISE(auto text, arrow::compute::Cast(*batch.column(i), arrow::utf8()));
    keys.push_back(std::static_pointer_cast<arrow::StringArray>(text));
  }
  std::map<std::string, std::vector<int64_t>> rows_by_folder;
  for (int64_t row = 0; row < batch.num_rows(); ++row) {
    std::string folder;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (k > 0) folder += "/";
      std::optional<std::string> value;
      if (keys[k]->IsValid(row)) value = std::string(keys[k]->GetView(row));
      folder += HivePartitionSegment(batch.schema()->field(partition_columns[k])->name(), value);
    }
    rows_by_folder[folder].push_back(row);
  }
  std::vector<std::shared_ptr<arrow::Array>> data;
  for (int i : data_columns) data.push_back(batch.column(i));
  auto projected = arrow::RecordBatch::Make(file_schema, batch.num_rows(), data);
  std::vector<std::pair<std::string, std::shared_ptr<arrow::RecordBatch>>> out;
  for (auto& [folder, rows] : rows_by_folder) {
    arrow::Int64Builder indices;
    ARROW_RETURN_NOT_OK(indices.AppendValues(rows));
    ARROW_ASSIGN_OR_RAISE(auto index_array, indices.Finish());
    ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(projected, index_array));
    out.emplace_back(folder, taken.record_batch());
  }
  return out;
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::Schema>> ApplyNotNull(
    const std::shared_ptr<arrow::Schema>& schema, const std::vector<std::string>& not_null) {
  auto out = schema;
  for (const auto& name : not_null) {
    const int i = out->GetFieldIndex(name);
    if (i < 0) {
      return arrow::Status::Invalid(fmt::format("not_null column '{}' is not in the result", name));
    }
    ARROW_ASSIGN_OR_RAISE(out, out->SetField(i, out->field(i)->WithNullable(false)));
  }
  return out;
}

std::string HivePartitionSegment(const std::string& column,
                                 const std::optional<std::string>& value) {
  if (!value) return column + "=__HIVE_DEFAULT_PARTITION__";
  std::string out = column + "=";
  for (unsigned char c : *value) {
    if (c < 0x20 || c == '/' || c == '\\' || c == '%' || c == ':' || c == '=' || c == '"' ||
        c == '\'' || c == '#' || c == '?' || c == '*' || c == 0x7f) {
      out += fmt::format("%{:02X}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

struct TableWriter::State {
  explicit State(storage::Uri base_uri) : base(std::move(base_uri)) {}
  storage::Storage* storage;
  storage::Uri base;
  std::string relative_dir;
  std::string file_stem;
  TableOptions options;
  std::shared_ptr<arrow::Schema> schema;       ///< with not_null applied
  std::shared_ptr<arrow::Schema> file_schema;  ///< without the partition columns
  std::vector<int> not_null_columns;
  std::vector<int> partition_columns;
  std::vector<int> data_columns;
  std::unique_ptr<PartitionedWriter> writer;
  int64_t rows = 0;
  bool failed = false;
};

TableWriter::TableWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}

TableWriter::~TableWriter() {
  if (state_->writer) state_->writer->Abort();
}

arrow::Result<std::unique_ptr<TableWriter>> TableWriter::Make(
    storage::Storage& storage, storage::Uri base, std::string relative_dir,
    const std::shared_ptr<arrow::Schema>& schema, TableOptions options, std::string file_stem) {
  ARROW_RETURN_NOT_OK(parquet::ValidateParquetOptions(options.parquet));
  if (options.max_partitions < 1) {
    return arrow::Status::Invalid("max_partitions must be at least 1, not ",
                                  options.max_partitions);
  }
  if (options.max_open_files < 1) {
    return arrow::Status::Invalid("max_open_files must be at least 1, not ",
                                  options.max_open_files);
  }
  auto state = std::make_unique<State>(std::move(base));
  state->storage = &storage;
  state->relative_dir = std::move(relative_dir);
  state->file_stem = std::move(file_stem);
  state->options = std::move(options);
  ARROW_ASSIGN_OR_RAISE(state->schema, ApplyNotNull(schema, state->options.not_null));
  for (const auto& name : state->options.not_null) {
    state->not_null_columns.push_back(state->schema->GetFieldIndex(name));
  }
  for (const auto& name : state->options.partition_by) {
    const int i = state->schema->GetFieldIndex(name);
    if (i < 0) {
      return arrow::Status::Invalid(
          fmt::format("partition column '{}' is not in the result", name));
    }
    state->partition_columns.push_back(i);
  }
  arrow::FieldVector file_fields;
  for (int i = 0; i < state->schema->num_fields(); ++i) {
    const auto& partitions = state->partition_columns;
    if (std::find(partitions.begin(), partitions.end(), i) != partitions.end()) continue;
    state->data_columns.push_back(i);
    file_fields.push_back(state->schema->field(i));
  }
  if (file_fields.empty()) {
    return arrow::Status::Invalid("every column is a partition column: nothing left to write");
  }
  state->file_schema = arrow::schema(file_fields, state->schema->metadata());
  state->writer =
      std::make_unique<PartitionedWriter>(storage, state->base, state->relative_dir,
                                          state->file_stem, state->file_schema, state->options);
  return std::unique_ptr<TableWriter>(new TableWriter(std::move(state)));
}

arrow::Status TableWriter::Write(const arrow::RecordBatch& batch) {
  State& s = *state_;
  if (s.failed) return arrow::Status::Invalid("table writer used after an error");
  auto status = [&]() -> arrow::Status {
    if (batch.num_columns() != s.schema->num_fields()) {
      return arrow::Status::Invalid(fmt::format("batch has {} columns, the table {}",
                                                batch.num_columns(), s.schema->num_fields()));
    }
    ARROW_RETURN_NOT_OK(CheckNoNulls(batch, s.not_null_columns, s.rows));
    auto typed = arrow::RecordBatch::Make(s.schema, batch.num_rows(), batch.columns());
    if (s.partition_columns.empty()) {
      ARROW_RETURN_NOT_OK(s.writer->Write("", *typed));
    } else {
      ARROW_ASSIGN_OR_RAISE(auto pieces,
                            Split(*typed, s.partition_columns, s.data_columns, s.file_schema));
      for (const auto& [folder, piece] : pieces)
        ARROW_RETURN_NOT_OK(s.writer->Write(folder, *piece));
    }
    s.rows += batch.num_rows();
    return arrow::Status::OK();
  }();
  if (!status.ok()) {
    s.failed = true;
    s.writer->Abort();
  }
  return status;
}

arrow::Status TableWriter::Finish(TableRecord* record) {
  State& s = *state_;
  if (s.failed) return arrow::Status::Invalid("table writer used after an error");
  ARROW_ASSIGN_OR_RAISE(auto written, s.writer->Finish());
  if (written.empty()) {
    // An empty table still gets a file, so readers (and the catalog's view) see its columns:
    // every column, partition columns in place, as there is no partition folder to name them.
    const std::string relative = layout::DataFile(s.relative_dir, s.file_stem, 0);
    ARROW_ASSIGN_OR_RAISE(
        auto empty, parquet::ParquetFileWriter::Open(*s.storage, s.base.Join(relative), s.schema,
                                                     s.options.parquet));
    ARROW_ASSIGN_OR_RAISE(int64_t bytes, empty->Close());
    written.push_back({relative, 0, bytes, empty->sha256(), {}});
  }
  record->rows = 0;
  record->bytes = 0;
  for (auto& file : written) {
    file.columns.clear();  // the store keeps the table's schema_json, not each file's
    record->rows += file.rows;
    record->bytes += file.bytes;
  }
  record->files = std::move(written);
  std::sort(record->files.begin(), record->files.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  record->schema_json = parquet::ColumnsToJson(parquet::ColumnsOf(*s.schema));
  record->partition_by = s.options.partition_by;
  record->content_hash = ContentHash(record->files);
  return arrow::Status::OK();
}

arrow::Status WriteTable(storage::Storage& storage, const storage::Uri& base,
                         const std::string& relative_dir, arrow::RecordBatchReader& reader,
                         const TableOptions& options, TableRecord* record,
                         const std::string& file_stem) {
  ARROW_ASSIGN_OR_RAISE(auto writer, TableWriter::Make(storage, base, relative_dir, reader.schema(),
                                                       options, file_stem));
  for (;;) {
    ARROW_ASSIGN_OR_RAISE(auto batch, reader.Next());
    if (!batch) break;
    ARROW_RETURN_NOT_OK(writer->Write(*batch));
  }
  return writer->Finish(record);
}

}  // namespace lakepipe::tablestore
