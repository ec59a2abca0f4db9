#include "lakepipe/sources/file_source.h"

#include <fnmatch.h>

#include <arrow/csv/api.h>
#include <arrow/io/compressed.h>
#include <arrow/json/api.h>
#include <arrow/util/compression.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>

#include "lakepipe/common/error_subject.h"
namespace lakepipe::sources {
namespace {

// "id: int64, name: string": a schema on one line, for one-line errors.
std::string Columns(const arrow::Schema& schema) {
  std::string out;
  for (const auto& field : schema.fields()) {
    out += (out.empty() ? "" : ", ") + field->name() + ": " + field->type()->ToString();
  }
  return out;
}

// Errors of the storage layer name the file already; the readers' do not.
arrow::Status InFile(const storage::Uri& uri, const arrow::Status& status) {
  const auto subject = Subject::Uri(uri.ToString());
  if (status.ok() || HasSubject(status, subject)) return status;
  return Naming(
      status.WithMessage(fmt::format("reading '{}': {}", uri.ToString(), status.message())),
      subject);
}

}  // namespace

arrow::Result<std::vector<storage::Uri>> ExpandGlob(storage::Storage* storage,
                                                    const std::string& pattern) {
  ARROW_ASSIGN_OR_RAISE(auto uri, storage::Uri::Parse(pattern));
  const std::string& key = uri.key();
  const auto wildcard = key.find_first_of("*?[");
  std::vector<storage::Uri> out;
  if (wildcard == std::string::npos) {
    ARROW_ASSIGN_OR_RAISE(auto entries, storage->List(uri, true));
    for (const auto& e : entries) {
      if (!e.is_dir && !e.uri.Name().starts_with(".") && !e.uri.Name().starts_with("_")) {
        out.push_back(e.uri);
      }
    }
  } else {
    // List below the last folder before the first wildcard, then match whole keys.
    const auto slash = key.rfind('/', wildcard);
    storage::Uri base = uri;
    if (slash == std::string::npos) {
      base = uri.Parent();
      while (!base.key().empty() && base.key() != "/") base = base.Parent();
    } else {
      ARROW_ASSIGN_OR_RAISE(base, storage::Uri::Parse(uri.ToString().substr(
                                      0, uri.ToString().size() - (key.size() - slash))));
    }
    ARROW_ASSIGN_OR_RAISE(auto entries, storage->List(base, true));
    for (const auto& e : entries) {
      if (e.is_dir) continue;
      // "**" may cross folders; a single "*" stays within one (FNM_PATHNAME).
      const bool deep = key.find("**") != std::string::npos;
      if (::fnmatch(key.c_str(), e.uri.key().c_str(), deep ? 0 : FNM_PATHNAME) == 0) {
        out.push_back(e.uri);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key() < b.key(); });
  if (out.empty()) {
    return arrow::Status::IOError(fmt::format("no files match '{}'", uri.ToString()));
  }
  return out;
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> FileSource::OpenFile(
    const storage::Uri& uri) {
  if (format_ == "parquet") {
    ARROW_ASSIGN_OR_RAISE(auto file, storage_->OpenRead(uri));
    ARROW_ASSIGN_OR_RAISE(auto reader,
                          ::parquet::arrow::OpenFile(file, arrow::default_memory_pool()));
    std::shared_ptr<arrow::RecordBatchReader> batches;
    ARROW_ASSIGN_OR_RAISE(batches, reader->GetRecordBatchReader());
    // The FileReader must outlive its batch reader: keep it alive alongside.
    struct Holder : arrow::RecordBatchReader {
      std::unique_ptr<::parquet::arrow::FileReader> owner;
      std::shared_ptr<arrow::RecordBatchReader> inner;
      std::shared_ptr<arrow::Schema> schema() const override { return inner->schema(); }
      arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* b) override {
        return inner->ReadNext(b);
      }
    };
    auto holder = std::make_shared<Holder>();
    holder->owner = std::move(reader);
    holder->inner = std::move(batches);
    return holder;
  }
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::io::InputStream> input, storage_->OpenStream(uri));
  const std::string name = uri.Name();
  auto codec_type = name.ends_with(".gz")    ? arrow::Compression::GZIP
                    : name.ends_with(".zst") ? arrow::Compression::ZSTD
                                             : arrow::Compression::UNCOMPRESSED;
  if (codec_type != arrow::Compression::UNCOMPRESSED) {
    ARROW_ASSIGN_OR_RAISE(auto codec, arrow::util::Codec::Create(codec_type));
    ARROW_ASSIGN_OR_RAISE(input, arrow::io::CompressedInputStream::Make(codec.get(), input));
    codecs_.push_back(std::move(codec));
  }
  if (format_ == "jsonl") {
    auto read = arrow::json::ReadOptions::Defaults();
    auto parse = arrow::json::ParseOptions::Defaults();
    if (first_schema_) {
      parse.explicit_schema = first_schema_;
      parse.unexpected_field_behavior = arrow::json::UnexpectedFieldBehavior::Error;
    }
    return arrow::json::StreamingReader::Make(input, read, parse);
  }
  auto read = arrow::csv::ReadOptions::Defaults();
  auto parse = arrow::csv::ParseOptions::Defaults();
  auto convert = arrow::csv::ConvertOptions::Defaults();
  if (auto it = options_.find("delimiter"); it != options_.end() && !it->second.empty()) {
    parse.delimiter = it->second[0];
  }
  if (auto it = options_.find("quote"); it != options_.end() && !it->second.empty()) {
    parse.quote_char = it->second[0];
  }
  if (auto it = options_.find("header"); it != options_.end() && it->second == "false") {
    read.autogenerate_column_names = true;
  }
  if (first_schema_) {
    for (const auto& field : first_schema_->fields()) {
      convert.column_types[field->name()] = field->type();
    }
  }
  return arrow::csv::StreamingReader::Make(arrow::io::default_io_context(), input, read, parse,
                                           convert);
}

arrow::Status FileSource::Run(IngestSink* sink) {
  ARROW_ASSIGN_OR_RAISE(auto files, ExpandGlob(storage_, uri_));
  for (const auto& uri : files) {
    auto reader = OpenFile(uri);
    if (!reader.ok()) return InFile(uri, reader.status());
    const auto schema = (*reader)->schema();
    if (!first_schema_) {
      first_schema_ = schema;
      ARROW_RETURN_NOT_OK(sink->OnSchema(stream_, schema));
    } else if (!schema->Equals(*first_schema_, /*check_metadata=*/false)) {
      return WithSubject(
          arrow::Status::Invalid(fmt::format("'{}' has columns ({}) but the first file had ({})",
                                             uri.ToString(), Columns(*schema),
                                             Columns(*first_schema_))),
          Subject::Stream(stream_));
    }
    for (;;) {
      if (cancelled_) return arrow::Status::Cancelled("run cancelled");
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(InFile(uri, (*reader)->ReadNext(&batch)));
      if (!batch) break;
      if (batch->num_rows() > 0) ARROW_RETURN_NOT_OK(sink->OnBatch(stream_, batch));
    }
  }
  return arrow::Status::OK();
}

}  // namespace lakepipe::sources
