#include "lakepipe/parquet/parquet_file_writer.h"

#include <arrow/util/compression.h>
#include <fmt/format.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

namespace lakepipe::parquet {
namespace {

// Lends our sink to Parquet's writer without letting it close the sink: Parquet closes
// its sink when destroyed, even after an error, and for us closing means publishing.
class LentStream : public arrow::io::OutputStream {
 public:
  explicit LentStream(arrow::io::OutputStream* sink) : sink_(sink) {}
  arrow::Status Close() override {
    closed_ = true;
    return arrow::Status::OK();
  }
  bool closed() const override { return closed_; }
  arrow::Result<int64_t> Tell() const override { return sink_->Tell(); }
  arrow::Status Write(const void* data, int64_t nbytes) override {
    return sink_->Write(data, nbytes);
  }
  arrow::Status Write(const std::shared_ptr<arrow::Buffer>& data) override {
    return sink_->Write(data);
  }
  arrow::Status Flush() override { return sink_->Flush(); }

 private:
  arrow::io::OutputStream* sink_;
  bool closed_ = false;
};

arrow::Result<int64_t> WriteBatches(arrow::io::OutputStream& sink, arrow::RecordBatchReader& reader,
                                    std::shared_ptr<::parquet::WriterProperties> props,
                                    std::shared_ptr<::parquet::ArrowWriterProperties> arrow_props) {
  auto borrowed = std::make_shared<LentStream>(&sink);
  ARROW_ASSIGN_OR_RAISE(auto writer, ::parquet::arrow::FileWriter::Open(
                                         *reader.schema(), arrow::default_memory_pool(), borrowed,
                                         std::move(props), std::move(arrow_props)));
  int64_t rows = 0;
  for (;;) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader.ReadNext(&batch));
    if (!batch) break;
    ARROW_RETURN_NOT_OK(writer->WriteRecordBatch(*batch));
    rows += batch->num_rows();
  }
  ARROW_RETURN_NOT_OK(writer->Close());  // writes the footer
  return rows;
}

}  // namespace

arrow::Result<int64_t> WriteParquetFile(storage::Storage& storage, const storage::Uri& uri,
                                        arrow::RecordBatchReader& reader,
                                        const ParquetWriteOptions& options) {
  auto codec = arrow::util::Codec::GetCompressionType(
      options.compression == "none" ? "uncompressed" : options.compression);
  if (!codec.ok()) {
    return arrow::Status::Invalid(
        fmt::format("writing '{}': unknown compression '{}'", uri.ToString(), options.compression));
  }
  ::parquet::WriterProperties::Builder props;
  props.compression(*codec)->max_row_group_length(options.row_group_rows)->enable_statistics();
  if (options.compression_level >= 0) props.compression_level(options.compression_level);
  auto arrow_props = ::parquet::ArrowWriterProperties::Builder().store_schema()->build();

  ARROW_ASSIGN_OR_RAISE(auto sink, storage.OpenWrite(uri));
  auto rows = WriteBatches(*sink, reader, props.build(), arrow_props);
  if (!rows.ok()) {
    (void)sink->Abort();
    return rows.status().WithMessage(
        fmt::format("writing '{}': {}", uri.ToString(), rows.status().message()));
  }
  ARROW_RETURN_NOT_OK(sink->Close());  // publishes the file
  return rows;
}

}  // namespace lakepipe::parquet
