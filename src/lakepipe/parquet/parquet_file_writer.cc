#include "lakepipe/parquet/parquet_file_writer.h"

#include <arrow/util/compression.h>
#include <fmt/format.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>
#include "lakepipe/common/error_subject.h"
#include "lakepipe/common/sha256.h"
#include "lakepipe/storage/errors.h"

namespace lakepipe::parquet {
namespace {

// Lends our sink to Parquet's writer without letting it close the sink: Parquet closes
// its sink when destroyed, even after an error, and for us closing means publishing.
// Hashes the bytes on their way, so the file's checksum costs no second read.
class LentStream : public arrow::io::OutputStream {
 public:
  explicit LentStream(arrow::io::OutputStream* sink) : sink_(sink) {}
  std::string HexDigest() { return hash_.HexDigest(); }
  arrow::Status Close() override {
    closed_ = true;
    return arrow::Status::OK();
  }
  bool closed() const override { return closed_; }
  arrow::Result<int64_t> Tell() const override { return sink_->Tell(); }
  arrow::Status Write(const void* data, int64_t nbytes) override {
    hash_.Update(data, static_cast<size_t>(nbytes));
    return sink_->Write(data, nbytes);
  }
  arrow::Status Write(const std::shared_ptr<arrow::Buffer>& data) override {
    hash_.Update(data->data(), static_cast<size_t>(data->size()));
    return sink_->Write(data);
  }
  arrow::Status Flush() override { return sink_->Flush(); }

 private:
  arrow::io::OutputStream* sink_;
  bool closed_ = false;
  common::Sha256 hash_;
};

arrow::Result<arrow::Compression::type> CodecOf(const std::string& name) {
  auto codec = arrow::util::Codec::GetCompressionType(name == "none" ? "uncompressed" : name);
  if (!codec.ok()) {
    return arrow::Status::Invalid(fmt::format(
        "unknown compression '{}' (use zstd, snappy, gzip, lz4, brotli or none)", name));
  }
  return *codec;
}

}  // namespace

arrow::Status ValidateParquetOptions(const ParquetWriteOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto codec, CodecOf(options.compression));
  if (options.compression_level >= 0 && codec != arrow::Compression::UNCOMPRESSED) {
    auto min = arrow::util::Codec::MinimumCompressionLevel(codec);
    auto max = arrow::util::Codec::MaximumCompressionLevel(codec);
    if (min.ok() && max.ok() &&
        (options.compression_level < *min || options.compression_level > *max)) {
      return arrow::Status::Invalid(fmt::format("compression level {} for {} is outside {}..{}",
                                                options.compression_level, options.compression,
                                                *min, *max));
    }
  }
  if (options.row_group_rows <= 0) {
    return arrow::Status::Invalid("row_group_rows must be positive");
  }
  return arrow::Status::OK();
}

ParquetFileWriter::ParquetFileWriter(storage::Uri uri, std::shared_ptr<storage::AtomicWriter> sink,
                                     std::shared_ptr<arrow::io::OutputStream> lent,
                                     std::unique_ptr<::parquet::arrow::FileWriter> writer)
    : uri_(std::move(uri)),
      sink_(std::move(sink)),
      lent_(std::move(lent)),
      writer_(std::move(writer)) {}

ParquetFileWriter::~ParquetFileWriter() { Abort(); }

arrow::Result<std::unique_ptr<ParquetFileWriter>> ParquetFileWriter::Open(
    storage::Storage& storage, const storage::Uri& uri,
    const std::shared_ptr<arrow::Schema>& schema, const ParquetWriteOptions& options) {
  ARROW_RETURN_NOT_OK(ValidateParquetOptions(options));
  ARROW_ASSIGN_OR_RAISE(auto codec, CodecOf(options.compression));
  ::parquet::WriterProperties::Builder props;
  props.compression(codec)->max_row_group_length(options.row_group_rows)->enable_statistics();
  props.dictionary_pagesize_limit(options.dictionary_page_limit_bytes);
  if (options.compression_level >= 0) props.compression_level(options.compression_level);
  auto arrow_props = ::parquet::ArrowWriterProperties::Builder()
                         .store_schema()
                         ->set_use_threads(options.use_threads)
                         ->build();
  ARROW_ASSIGN_OR_RAISE(auto sink, storage.OpenWrite(uri));
  auto lent = std::make_shared<LentStream>(sink.get());
  auto writer = ::parquet::arrow::FileWriter::Open(*schema, arrow::default_memory_pool(), lent,
                                                   props.build(), arrow_props);
  if (!writer.ok()) {
    (void)sink->Abort();
    return storage::OperationFailed("writing", uri, writer.status());
  }
  return std::unique_ptr<ParquetFileWriter>(
      new ParquetFileWriter(uri, std::move(sink), std::move(lent), std::move(*writer)));
}

arrow::Status ParquetFileWriter::Failed(const arrow::Status& status) const {
  // Errors of the sink already name the file (the storage layer wraps them).
  if (HasSubject(status, Subject::Uri(uri_.ToString()))) return status;
  return storage::OperationFailed("writing", uri_, status);
}

arrow::Status ParquetFileWriter::Write(const arrow::RecordBatch& batch) {
  auto status = writer_->WriteRecordBatch(batch);
  if (!status.ok()) {
    Abort();
    return Failed(status);
  }
  rows_ += batch.num_rows();
  return status;
}

int64_t ParquetFileWriter::bytes_written() const {
  auto position = sink_->Tell();
  return position.ok() ? *position : 0;
}

arrow::Result<int64_t> ParquetFileWriter::Close() {
  auto status = writer_->Close();  // writes the footer into the lent stream
  if (!status.ok()) {
    Abort();
    return Failed(status);
  }
  const int64_t bytes = bytes_written();
  sha256_ = static_cast<LentStream*>(lent_.get())->HexDigest();
  ARROW_RETURN_NOT_OK(sink_->Close());  // publishes the file
  return bytes;
}

void ParquetFileWriter::Abort() {
  if (sink_ && !sink_->closed()) (void)sink_->Abort();
}

}  // namespace lakepipe::parquet
