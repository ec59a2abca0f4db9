#pragma once

#include <memory>
#include <string>

#include <arrow/filesystem/filesystem.h>
#include <arrow/io/interfaces.h>
#include <arrow/result.h>

#include "lakepipe/storage/uri.h"

namespace lakepipe::storage {

/// An output stream whose object appears at its URI only when Close() succeeds, whole.
/// Until then no reader sees it, not even after a crash:
///  - local files are written to a hidden temp file beside the target (".<name>.tmp-…"),
///    fsynced, then renamed into place;
///  - object stores upload in parts (S3 multipart, GCS resumable, Azure staged blocks)
///    that become an object only on completion.
/// Abort(), or destroying the writer without Close(), discards what was written (Arrow's
/// own streams complete the upload on destruction; this one never does).
///
/// Not thread-safe: one writer per thread.
class AtomicWriter : public arrow::io::OutputStream {
 public:
  /// Opens a writer for `uri` on `fs` (the filesystem that serves `uri`).
  static arrow::Result<std::shared_ptr<AtomicWriter>> Open(
      std::shared_ptr<arrow::fs::FileSystem> fs, const Uri& uri);

  ~AtomicWriter() override;

  /// Publishes the object. After an error nothing is published and the writer is closed.
  arrow::Status Close() override;
  /// Discards what was written; safe to call more than once.
  arrow::Status Abort() override;
  bool closed() const override { return closed_; }
  arrow::Result<int64_t> Tell() const override;
  arrow::Status Write(const void* data, int64_t nbytes) override;
  arrow::Status Write(const std::shared_ptr<arrow::Buffer>& data) override;
  arrow::Status Flush() override;

  const Uri& uri() const { return uri_; }

 private:
  AtomicWriter(std::shared_ptr<arrow::fs::FileSystem> fs, Uri uri, std::string temp_path,
               std::shared_ptr<arrow::io::OutputStream> stream);

  arrow::Status Fail(std::string_view operation, const arrow::Status& cause);

  std::shared_ptr<arrow::fs::FileSystem> fs_;
  Uri uri_;
  /// Local only: the hidden file renamed onto the target at Close(); "" on object stores.
  std::string temp_path_;
  std::shared_ptr<arrow::io::OutputStream> stream_;
  bool closed_ = false;
};

}  // namespace lakepipe::storage
