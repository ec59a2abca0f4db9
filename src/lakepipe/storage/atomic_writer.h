#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <arrow/filesystem/filesystem.h>
#include <arrow/io/interfaces.h>
#include <arrow/result.h>

#include "lakepipe/storage/hung_call_watchdog.h"
#include "lakepipe/storage/retry.h"
#include "lakepipe/storage/uri.h"

namespace lakepipe::storage {

/// An output stream whose object appears at its URI only when Close() succeeds, whole.
/// Until then no reader sees it, not even after a crash. How, per provider:
///  - local: a hidden temp file beside the target (".<name>.tmp-…"), fsynced, renamed;
///  - S3: a multipart upload, completed at Close() and aborted otherwise;
///  - GCS and Azure: a hidden staging object beside the target, then a server-side copy
///    onto the target and a delete of the staging object. Arrow's GCS stream cannot
///    abort (Abort() finalizes the upload) and its Azure stream creates an empty blob at
///    open, so neither can write the target key directly without a reader seeing a
///    partial object. A crash can leave a hidden staging object, never a partial target.
/// Abort(), or destroying the writer without Close(), discards what was written (Arrow's
/// own streams complete the upload on destruction; this one never does).
///
/// Not thread-safe: one writer per thread.
class AtomicWriter : public arrow::io::OutputStream {
 public:
  /// What watches a writer's calls to its store, both optional: `watchdog` ends a hung
  /// call, `retry` learns of failures the client gave up on (RetryPolicy::GaveUp).
  struct Guards {
    std::shared_ptr<HungCallWatchdog> watchdog;
    std::shared_ptr<RetryPolicy> retry;
    /// Called once the object is published (Storage sweeps the folder then, when the
    /// store has just answered, so a sweep never delays or renames a write's error).
    std::function<void()> on_published;
  };

  /// Opens a writer for `uri` on `fs` (the filesystem that serves `uri`).
  static arrow::Result<std::shared_ptr<AtomicWriter>> Open(
      std::shared_ptr<arrow::fs::FileSystem> fs, const Uri& uri, Guards guards = {});

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
  enum class Publish { kComplete, kRename, kCopyFromStaging };

  AtomicWriter(std::shared_ptr<arrow::fs::FileSystem> fs, Uri uri, Publish publish,
               std::string staging_path, std::shared_ptr<arrow::io::OutputStream> stream,
               Guards guards);

  std::optional<HungCallWatchdog::Watch> Watched(std::string_view operation) const;

  arrow::Status PublishStaged();
  void DiscardStaged();

  arrow::Status Fail(std::string_view operation, const arrow::Status& cause);
  arrow::Status WriteAfterClose() const;
  arrow::Status Written(int64_t nbytes);

  std::shared_ptr<arrow::fs::FileSystem> fs_;
  Uri uri_;
  Publish publish_;
  /// The hidden file or object written instead of the target; "" for kComplete.
  std::string staging_path_;
  std::shared_ptr<arrow::io::OutputStream> stream_;
  /// Bytes handed to an object-store stream since its last Flush(); see Written().
  int64_t unflushed_bytes_ = 0;
  bool closed_ = false;
  /// Set when a call to the store failed (Fail()); Abort() then waits on nothing.
  bool failed_ = false;
  Guards guards_;
};

/// Forces a local file's (or folder's) content to disk: like write() then fsync().
arrow::Status SyncLocalPath(const std::string& path);

}  // namespace lakepipe::storage
