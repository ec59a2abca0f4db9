#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/result.h>

#include "lakepipe/common/file_lock.h"
#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/lake/manifest_store.h"
#include "lakepipe/lake/run_journal.h"
#include "lakepipe/parquet/rolling_writer.h"
#include "lakepipe/pipeline/pipeline_config.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::pipeline {

/// What one run wrote for one stream in one destination.
struct StreamOutput {
  std::shared_ptr<arrow::Schema> schema;  ///< the last schema of the stream
  /// Paths relative to the bucket, each with its columns and checksum.
  std::vector<parquet::DataFileMeta> files;
  int64_t rows = 0;
  int64_t bytes = 0;
  /// The table's entry before this run, reconciled with its folder (files another writer
  /// added or removed; lake/table_reconciler.h); nullopt for a new table.
  std::optional<lake::TableEntry> previous;
  /// First file number this run may use: never below a number a committed run used.
  int64_t next_file_number = 0;
};

/// Writes a run's streams into one destination bucket under the bucket contract: one
/// rolling Parquet writer per stream, numbered files that never reuse a number, every
/// file journaled before it is written, in the run's staging folder until the commit
/// moves it into its table (so no reader's glob ever sees an uncommitted row). Not thread-safe (the
/// run's writer thread owns it).
class DestinationWriter {
 public:
  /// `dt` is the extraction date ("YYYY-MM-DD") for incremental runs, nullopt for full.
  DestinationWriter(storage::Storage* storage, const DestinationConfig& config,
                    std::string source_name, lake::RunJournal* journal,
                    std::optional<std::string> dt);

  const lake::BucketLayout& layout() const { return layout_; }
  const DestinationConfig& config() const { return config_; }

  /// A stream starts or changes schema: the stream's open file is finished and the next
  /// batch starts a new one.
  arrow::Status OnSchema(const std::string& stream, const std::shared_ptr<arrow::Schema>& schema);
  arrow::Status Write(const std::string& stream, const arrow::RecordBatch& batch);
  /// Finishes every open file (publishing it under its final name).
  arrow::Status Finish();
  /// Discards open files; finished ones stay for the journal's cleanup.
  void Abort();

  const std::map<std::string, StreamOutput>& outputs() const { return outputs_; }
  /// Every data file written so far: where it is staged, and where it goes at commit.
  const std::vector<lake::Publication>& publications() const { return publications_; }

 private:
  arrow::Result<parquet::FileSlot> NextFile(const std::string& stream);
  arrow::Status CollectFinished(const std::string& stream);

  storage::Storage* storage_;
  DestinationConfig config_;
  std::string source_name_;
  lake::BucketLayout layout_;
  lake::ManifestStore manifest_;
  lake::RunJournal* journal_;
  std::optional<std::string> dt_;
  struct OpenWriter {
    std::unique_ptr<parquet::RollingParquetWriter> writer;
    size_t collected = 0;  ///< files of `writer` already moved into outputs_
  };
  std::map<std::string, OpenWriter> writers_;
  std::map<std::string, StreamOutput> outputs_;
  std::vector<lake::Publication> publications_;
  std::vector<std::unique_ptr<FileLock>> table_locks_;  ///< local buckets: tables being written
};

}  // namespace lakepipe::pipeline
