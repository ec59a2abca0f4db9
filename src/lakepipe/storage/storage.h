#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/buffer.h>
#include <arrow/filesystem/filesystem.h>
#include <arrow/io/interfaces.h>
#include <arrow/result.h>

#include "lakepipe/storage/atomic_writer.h"
#include "lakepipe/storage/hung_call_watchdog.h"
#include "lakepipe/storage/retry.h"
#include "lakepipe/storage/storage_options.h"
#include "lakepipe/storage/uri.h"

namespace lakepipe::storage {

/// One listed object or local file. Not the record of a file lakepipe wrote
/// (parquet::DataFileMeta): whatever a store lists, directories included.
struct FileEntry {
  Uri uri;
  int64_t size = 0;
  bool is_dir = false;
  std::chrono::system_clock::time_point modified;
};

/// How old a writer's hidden staging file or object must be before a later write into its
/// folder deletes it as left by a dead writer: longer than any write lasts (a local temp
/// file's time is its last write; an Azure staging blob's is its creation, so a single
/// upload running longer than this could lose its staging blob, and then fails cleanly at
/// Close()). Tests shorten it with LAKEPIPE_STALE_WRITE_SECONDS.
inline constexpr std::chrono::hours kStaleWriteAge{24};

/// Called as a copy makes progress; `total` is -1 when unknown.
using ProgressCallback = std::function<void(int64_t done, int64_t total)>;

/// The operations the engine needs on any bucket: one object serves every URI (local,
/// s3, gs, az), making and caching one Arrow filesystem per provider and account.
/// Metadata calls (stat, list, delete, whole-object reads and writes, server-side copy)
/// are retried with backoff under the options' deadline (RetryPolicy: once a call gave
/// up, later calls to that store try once); streams are not, since a half-consumed
/// stream cannot be replayed.
///
/// Every error names the operation and the URI, carries the provider's message and never
/// a credential. A call still running past the deadline plus retry.hung_call_seconds
/// stops the process (HungCallWatchdog). Thread-safe: share one Storage between threads.
class Storage {
 public:
  static arrow::Result<std::unique_ptr<Storage>> Make(StorageOptions options);

  const StorageOptions& options() const { return options_; }

  /// The Arrow filesystem serving `uri` (paths on it are uri.FileSystemPath()).
  arrow::Result<std::shared_ptr<arrow::fs::FileSystem>> FileSystemFor(const Uri& uri);

  /// What is at `uri`, or nullopt when nothing is (Arrow's FileType::NotFound). Errors
  /// are only the store's: nothing there is a result, never an error to parse.
  arrow::Result<std::optional<FileEntry>> StatIfExists(const Uri& uri);
  /// What is at `uri`; PathNotFound ("'<uri>' does not exist") when nothing is.
  arrow::Result<FileEntry> Stat(const Uri& uri);
  arrow::Result<bool> Exists(const Uri& uri);

  /// Files under `uri` (a folder or prefix), sorted by URI. A missing folder lists empty; a
  /// missing bucket is an error.
  /// `uri` naming a single file lists that file.
  arrow::Result<std::vector<FileEntry>> List(const Uri& uri, bool recursive = true);
  /// The hidden temp files AtomicWriter leaves directly in folder `uri` when its process
  /// dies mid-write (List skips them). Only the owner of a folder, knowing its writers
  /// dead, may delete them.
  arrow::Result<std::vector<FileEntry>> ListWriterTemps(const Uri& uri);
  /// Every file under `uri` (a folder or prefix), at any depth, writers' temp files
  /// included, sorted by URI; no folders. For the owner of a folder emptying it (the table
  /// store's slots), who must see what a dead writer left too. Retried, watched and
  /// reported as List().
  arrow::Result<std::vector<FileEntry>> ListAllFiles(const Uri& uri);

  /// Deletes the hidden staging files and objects that writers killed mid-write left
  /// directly in folder `uri` (AtomicWriter: local temp files, GCS and Azure staging
  /// objects), once they are older than kStaleWriteAge. Best effort: a failure is logged
  /// (-v) and ignored. Every write (OpenWrite's writer, WriteAll) calls it once it has
  /// published its object, once per folder per Storage, so any later write into a folder
  /// cleans up after dead ones. Incomplete S3 multipart uploads
  /// are not visible through Arrow's S3 filesystem (no ListMultipartUploads) and are left
  /// to the bucket's lifecycle rule (README: AbortIncompleteMultipartUpload).
  void SweepStaleWrites(const Uri& uri);

  /// Random-access reader (for Parquet footers).
  arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenRead(const Uri& uri);
  /// Sequential reader.
  arrow::Result<std::shared_ptr<arrow::io::InputStream>> OpenStream(const Uri& uri);
  arrow::Result<std::shared_ptr<arrow::Buffer>> ReadAll(const Uri& uri);
  /// The whole object, or nullopt when nothing is at `uri`, also when it was deleted
  /// while being read. A failed read counts as "not there" only when a StatIfExists
  /// after it finds nothing; otherwise its error is returned.
  arrow::Result<std::optional<std::shared_ptr<arrow::Buffer>>> ReadIfExists(const Uri& uri);

  /// A writer that publishes the object whole at Close() (see AtomicWriter). Opening is
  /// retried; writing is not.
  arrow::Result<std::shared_ptr<AtomicWriter>> OpenWrite(const Uri& uri);
  /// Writes `data` as the whole object, atomically, retried.
  arrow::Status WriteAll(const Uri& uri, std::string_view data);

  /// Deletes one object or file; deleting what does not exist succeeds.
  arrow::Status Delete(const Uri& uri);
  /// Deletes a folder or prefix and everything under it; missing is fine.
  arrow::Status DeleteTree(const Uri& uri);

  /// Moves one file or object to `destination` (replacing what is there): a rename of
  /// local files (atomic, its folder synced), a server-side copy then a delete of the
  /// source on object stores (the destination appears whole; both exist for a moment).
  /// Moving what is gone when the destination exists succeeds, so a move may be redone
  /// after a crash.
  arrow::Status Move(const Uri& source, const Uri& destination);

  /// Copies one object. Same filesystem and not local: a server-side copy (no bytes
  /// through this process). Otherwise a streamed copy in constant memory through an
  /// AtomicWriter: the destination appears whole or not at all.
  /// Setting `*cancel` stops a streamed copy between chunks: the upload is aborted (no
  /// multipart upload or staging object is left) and the result is Cancelled.
  arrow::Status Copy(const Uri& source, const Uri& destination,
                     const ProgressCallback& progress = {},
                     const std::atomic<bool>* cancel = nullptr);

 private:
  arrow::Result<std::vector<FileEntry>> ListFiltered(const Uri& uri, bool recursive,
                                                     bool writer_temps);

  explicit Storage(StorageOptions options);

  /// Watches one call to the store (HungCallWatchdog): `operation` and `uri` say which.
  HungCallWatchdog::Watch Watched(std::string_view operation, const Uri& uri);

  /// One provider account's filesystem and the retries of every call made to it.
  struct Endpoint {
    std::shared_ptr<arrow::fs::FileSystem> fs;
    std::shared_ptr<RetryPolicy> retry;
  };
  arrow::Result<Endpoint> EndpointFor(const Uri& uri);

  arrow::Status StreamCopy(const Uri& source, const Uri& destination, int64_t size,
                           const ProgressCallback& progress, const std::atomic<bool>* cancel);

  /// Folders SweepStaleWrites has swept (by URI), guarded by mutex_.
  std::set<std::string> swept_;
  const StorageOptions options_;
  const std::shared_ptr<HungCallWatchdog> watchdog_;
  std::mutex mutex_;
  std::map<std::string, Endpoint> endpoints_;
};

}  // namespace lakepipe::storage
