#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/parquet/parquet_file_writer.h"
#include "lakepipe/singer/record_batch_builder.h"
#include "lakepipe/singer/replication.h"
#include "lakepipe/storage/storage_options.h"

namespace lakepipe::pipeline {

/// Where records come from: a Singer tap (DataSpoc Pipe's `tap:`) or a built-in reader.
struct SourceConfig {
  /// The tap's command line split into words ("python3 my_tap.py" → 2 words); empty when
  /// a built-in reader is used.
  std::vector<std::string> tap_argv;
  /// The tap's config: an inline map, or a path (relative to the home folder) in
  /// config_path. Written to a private temp file for the tap; never logged.
  std::optional<nlohmann::json> config_inline;
  std::string config_path;
  /// Streams to select (all when empty).
  std::vector<std::string> streams;
  /// Built-in reader instead of a tap: csv | jsonl | parquet | postgres | demo.
  std::string reader;
  /// Reader input: a URI or glob for csv/jsonl/parquet; postgresql://user@host:port/db.
  std::string uri;
  /// Stream (table) name of a reader's output; defaults from the reader.
  std::string stream;
  /// Reader-specific settings (csv delimiter, postgres table, demo rows, ...).
  std::map<std::string, std::string> options;
  /// `<source>` in the bucket layout; default: the tap's last word's stem without "tap-",
  /// or the reader's name.
  std::string name;
};

/// One bucket the pipeline lands its streams in.
struct DestinationConfig {
  std::string bucket;
  std::string path = "raw";
  /// DataSpoc Pipe's field; incremental runs partition by extraction date (UTC) into
  /// dt=YYYY-MM-DD folders.
  std::string partition_by = "_extraction_date";
  parquet::ParquetWriteOptions parquet;
  /// A new file starts when the current one reaches this size.
  int64_t file_size_target_bytes = 256LL << 20;
  /// `share_tables: true`: this pipeline may write tables another pipeline wrote (both
  /// files must say so); by default a table has one owner and a second one is refused.
  bool share_tables = false;
};

/// timeout_seconds when a pipeline file names none.
inline constexpr double kDefaultTapTimeoutSeconds = 6 * 3600;

/// A pipeline file ($LAKEPIPE_HOME/pipelines/<name>.yaml), DataSpoc Pipe's format plus
/// lakepipe's additions (reader, destinations, storage, transform, on_type_error, batch,
/// timeout_seconds). Unknown keys are errors naming the key and the file.
struct PipelineConfig {
  std::string name;
  std::string file;
  SourceConfig source;
  std::vector<DestinationConfig> destinations;
  bool incremental = false;
  /// Column whose maximum is the bookmark of an incremental stream: the built-in readers'
  /// bookmark, and the replication key asked of a tap's streams through its catalog.
  std::string replication_key;
  /// incremental.streams: per-stream overrides ({key, method}) of the above.
  std::map<std::string, singer::StreamReplication> stream_replication;
  std::string schedule_cron;
  storage::StorageOptions storage;
  singer::OnTypeError on_type_error = singer::OnTypeError::kFail;
  /// SQL run by DuckDB on each batch, which it sees as the table `batch`.
  std::string transform_sql;
  /// DataSpoc Pipe's convention: <home>/transforms/<name>.py, when that file exists,
  /// defines transform(df), applied after the SQL transform.
  std::string python_transform;
  /// Records per batch handed to the writer, and bytes that flush a batch early.
  int64_t batch_rows = 64 * 1024;
  int64_t batch_bytes = 32LL << 20;
  /// The tap (its process group, and whatever still holds its output) is stopped, SIGTERM
  /// then SIGKILL, when it runs longer, and the run fails. The default, 6 hours, ends a
  /// hung tap within a working day yet leaves room for a first full load; 0 = no limit.
  double timeout_seconds = kDefaultTapTimeoutSeconds;

  /// `<source>` of the bucket layout.
  std::string SourceName() const;
  /// The replication key of `stream`: its override, else replication_key ("" for none).
  std::string ReplicationKeyOf(const std::string& stream) const;
};

/// Loads and validates a pipeline file. `name` is the pipeline's name (the file's stem).
/// Relative paths in it (tap config) are resolved against `home`.
arrow::Result<PipelineConfig> LoadPipelineFile(const std::string& path, const std::string& name,
                                               const std::string& home);

/// Parses pipeline YAML text (for tests and `lakepipe add`); `where` names it in errors.
arrow::Result<PipelineConfig> ParsePipelineYaml(const std::string& text, const std::string& name,
                                                const std::string& where, const std::string& home);

}  // namespace lakepipe::pipeline
