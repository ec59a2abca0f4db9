#pragma once

#include <atomic>
#include <map>
#include <string>

#include <arrow/util/compression.h>

#include "lakepipe/sources/ingest_source.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::sources {

/// Built-in readers of files on any backend, through Arrow's own readers (no JSON per
/// record): "csv", "jsonl" (also .gz / .zst) and "parquet". `uri` may hold a glob in its
/// last segments (s3://landing/customers/*.csv, /data/**/*.parquet); the files are read in
/// name order as one stream. Every file must have the first file's columns; CSV types are
/// inferred from the first file and imposed on the rest.
///
/// Options: csv → delimiter (default ","), header ("true"), quote ('"'), null_values
/// (comma-separated); jsonl → none; parquet → none.
class FileSource : public IngestSource {
 public:
  FileSource(storage::Storage* storage, std::string format, std::string uri, std::string stream,
             std::map<std::string, std::string> options)
      : storage_(storage),
        format_(std::move(format)),
        uri_(std::move(uri)),
        stream_(std::move(stream)),
        options_(std::move(options)) {}

  arrow::Status Run(IngestSink* sink) override;
  void Cancel() override { cancelled_ = true; }

 private:
  arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> OpenFile(const storage::Uri& uri);

  storage::Storage* storage_;
  std::string format_;
  std::string uri_;
  std::string stream_;
  std::map<std::string, std::string> options_;
  std::shared_ptr<arrow::Schema> first_schema_;
  /// Decompression codecs must outlive the streams that use them.
  std::vector<std::unique_ptr<arrow::util::Codec>> codecs_;
  std::atomic<bool> cancelled_{false};
};

/// The files a URI with an optional glob names, sorted. A URI without wildcards names one
/// file (or every file under a folder).
arrow::Result<std::vector<storage::Uri>> ExpandGlob(storage::Storage* storage,
                                                    const std::string& pattern);

}  // namespace lakepipe::sources
