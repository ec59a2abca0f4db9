#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lakepipe/storage/uri.h"

namespace lakepipe::lake {

/// Where everything lives in a bucket: the contract DataSpoc Pipe and Lens share, plus
/// lakepipe's own bookkeeping under .dataspoc/ (all formats are documented in
/// docs/FORMATS.md):
///
///   .dataspoc/manifest.json                       catalog of every table (derived)
///   .dataspoc/tables/<source>/<table>.json        one table's entry (source of truth)
///   .dataspoc/state/<pipeline>/state.json         Singer bookmarks
///   .dataspoc/logs/<pipeline>/<UTC start>.json    one log per run
///   .dataspoc/journal/<pipeline>/<run id>.json    files an unfinished run wrote
///   .dataspoc/staging/<pipeline>/<run id>/<path>.staged   a run's data files until commit
///   .dataspoc/locks/<source>/<table>.lock        held while a run writes the table (local)
///   .dataspoc/.lakepipe-probe-<id>                written and deleted by `validate`
///   <path>/<source>/<table>/<table>_NNNN.parquet              full refresh
///   <path>/<source>/<table>/dt=YYYY-MM-DD/<table>_NNNN.parquet   incremental
///
/// Every <source>, <table> and <pipeline> above is the name's EncodePathSegment()
/// (lake/path_segment.h): the arguments here are the names as taps and files give them.
class BucketLayout {
 public:
  explicit BucketLayout(storage::Uri bucket) : bucket_(std::move(bucket)) {}

  const storage::Uri& bucket() const { return bucket_; }

  storage::Uri ManifestUri() const;
  storage::Uri TableEntriesDir() const;
  storage::Uri TableEntryUri(std::string_view source, std::string_view table) const;
  storage::Uri StateUri(std::string_view pipeline) const;
  storage::Uri LogsDir(std::string_view pipeline) const;
  /// `stamp` is the run's UTC start, "YYYY-MM-DDTHH-MM-SS-uuuuuu" (DataSpoc Pipe's
  /// spelling plus microseconds).
  storage::Uri LogUri(std::string_view pipeline, std::string_view stamp) const;
  storage::Uri JournalDir(std::string_view pipeline) const;
  storage::Uri JournalUri(std::string_view pipeline, std::string_view run_id) const;
  /// Where a run writes its data files until it commits: no reader's glob of a table
  /// folder (nor of `**/*.parquet`) finds them there.
  storage::Uri StagingDir(std::string_view pipeline, std::string_view run_id) const;
  /// .dataspoc/locks/<source>/<table>.lock: held by the run writing the table (local
  /// buckets, where an OS lock can be taken).
  storage::Uri TableLockUri(std::string_view source, std::string_view table) const;
  /// Where `validate` writes (then deletes) a probe to prove the bucket writable; `id`
  /// keeps concurrent probes apart.
  storage::Uri ProbeUri(std::string_view id) const;
  /// The staging path (relative to the bucket) of data file `relative`.
  static std::string StagedPath(std::string_view pipeline, std::string_view run_id,
                                std::string_view relative);

  /// "<path>/<source>/<table>", relative to the bucket (the manifest's `location`).
  static std::string TableLocation(std::string_view path, std::string_view source,
                                   std::string_view table);
  /// Relative path of data file `number` of a table; `dt` ("YYYY-MM-DD") for incremental.
  static std::string DataFile(std::string_view location, std::string_view table,
                              std::optional<std::string_view> dt, int64_t number);
  /// The number in "<table>_NNNN.parquet", or nullopt when `name` is not such a file.
  static std::optional<int64_t> DataFileNumber(std::string_view name, std::string_view table);

  /// True for "/x.parquet" and "/dt=YYYY-MM-DD/x.parquet" (a path below a table's folder,
  /// with its leading '/'): where a table's data files live, whoever wrote them.
  static bool IsTableDataPath(std::string_view inside);

  storage::Uri Resolve(std::string_view relative) const { return bucket_.Join(relative); }

 private:
  storage::Uri bucket_;
};

}  // namespace lakepipe::lake
