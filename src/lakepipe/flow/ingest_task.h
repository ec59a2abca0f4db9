#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/flow/task.h"
#include "lakepipe/lake/table_entry.h"
#include "lakepipe/storage/uri.h"

namespace lakepipe::flow {

/// `ingest:` — runs a lakepipe ingest pipeline before its stage's cache keys are computed
/// (the key is the stream's table as the pipeline leaves it), then copies that table's
/// files into the stage.
class IngestTask : public Task {
 public:
  static TaskKindEntry Entry();

  /// `stream`: "" for the pipeline's only stream.
  IngestTask(std::string pipeline, std::string stream)
      : pipeline_(std::move(pipeline)), stream_(std::move(stream)) {}

  const char* kind() const override { return "ingest"; }
  std::vector<ExternalSource> ExternalSources() const override;
  bool Prepares() const override { return true; }
  arrow::Result<std::shared_ptr<const TaskPreparation>> Prepare(
      const TaskConfig& task, const TaskContext& context) const override;
  arrow::Result<nlohmann::json> CacheKeyParts(const TaskConfig& task,
                                              const TaskContext& context) const override;
  std::string WhatChanges() const override { return "its pipeline or table options"; }
  arrow::Result<tablestore::TableRecord> Execute(const TaskConfig& task,
                                                 const TaskContext& context) const override;

 private:
  std::string pipeline_;
  std::string stream_;
};

/// A stream's table as an ingest pipeline committed it (IngestTask's preparation). Not a
/// file record: a table's ingest result, whose files are the entry's parquet::DataFileMeta.
struct IngestedTable : TaskPreparation {
  IngestedTable(storage::Uri bucket, lake::TableEntry entry)
      : bucket(std::move(bucket)), entry(std::move(entry)) {}

  storage::Uri bucket;     ///< the entry's file paths are relative to it
  lake::TableEntry entry;  ///< as the bucket's manifest holds it
};

/// Runs the ingest pipeline `pipeline` (from the lakepipe home `home`, "" = the default;
/// the --storage file `storage_file` merged in as for `lakepipe run`) once, holding its run
/// lock, then takes the entry of `stream` (or of its only stream). Errors name the
/// pipeline and stream.
arrow::Result<IngestedTable> RunIngestTask(const std::string& home,
                                           const std::string& storage_file,
                                           const std::string& pipeline, const std::string& stream);

/// The checksum of an ingest file the task copied into its stage: not a digest of its
/// bytes (no byte is read again to fingerprint it) but the sha256 (hex) of
/// "<source uri>:<bytes>", enough since ingest files are immutable (file numbers are
/// never reused). Persisted, and part of the content hash that keys the cache of every
/// task reading the table: keep it as it is.
std::string CopiedFileChecksum(const storage::Uri& source, int64_t bytes);

/// How DuckDB reads back a column of manifest type `type` (Arrow's spelling) from the
/// Parquet files lakepipe writes, as the Arrow type it hands over: "large_string" is
/// "string", a list's item is "l", children are nullable, and an instant of any unit is
/// `timestamp_tz` (DuckDB's TIMESTAMPTZ, in its session's zone). nullopt for a type whose
/// reading it does not know.
std::optional<std::string> TypeAsDuckDbReadsIt(std::string_view type,
                                               const std::string& timestamp_tz);

/// The schema_json of a table copied from an ingest bucket, from the manifest's `columns`:
/// what DuckDB reads back from the files (every column nullable), as the flow recorded it
/// when it read the files; nullopt when a column's type is not one TypeAsDuckDbReadsIt()
/// knows.
std::optional<nlohmann::json> RecordedColumns(const std::vector<parquet::Column>& columns,
                                              const std::string& timestamp_tz);

}  // namespace lakepipe::flow
