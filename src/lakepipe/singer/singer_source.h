#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lakepipe/singer/record_batch_builder.h"
#include "lakepipe/singer/replication.h"
#include "lakepipe/singer/tap_process.h"
#include "lakepipe/sources/ingest_source.h"

namespace lakepipe::singer {

/// Settings of a Singer tap run.
struct SingerSourceOptions {
  std::vector<std::string> tap_argv;
  std::optional<nlohmann::json> config;
  /// Bookmarks from the last committed run (incremental).
  std::optional<nlohmann::json> state;
  /// Streams to select; when not empty the tap is run with --discover first and the
  /// selected streams are marked in the catalog passed with --catalog.
  std::vector<std::string> streams;
  /// Replication asked of every selected stream through the catalog's metadata
  /// ("replication-method", "replication-key"), and per-stream overrides; either one
  /// being set also makes the tap run with a discovered catalog (all streams selected
  /// when `streams` is empty). Empty fields leave the tap's own choice.
  StreamReplication replication;
  std::map<std::string, StreamReplication> stream_replication;

  /// True when the tap needs a catalog from discovery.
  bool NeedsCatalog() const {
    return !streams.empty() || !replication.key.empty() || !stream_replication.empty();
  }
  OnTypeError on_type_error = OnTypeError::kFail;
  int64_t batch_rows = 64 * 1024;
  int64_t batch_bytes = 32LL << 20;
  double timeout_seconds = 0;
};

/// Runs a Singer tap and turns its SCHEMA / RECORD / STATE messages into batches:
/// SCHEMA → JsonSchemaToArrow, RECORD → RecordBatchBuilder (flushed every batch_rows /
/// batch_bytes), STATE → the sink. ACTIVATE_VERSION is accepted and ignored; other
/// message types are warned about once. Errors name the stream and line
/// ("stream 'orders', line 1042: field 'amount': expected number, got string \"x\"");
/// the caller adds the pipeline.
class SingerSource : public sources::IngestSource {
 public:
  explicit SingerSource(SingerSourceOptions options) : options_(std::move(options)) {}

  arrow::Status Run(sources::IngestSink* sink) override;
  /// Safe to call from another thread while Run() runs.
  void Cancel() override;
  /// The tap's name, how many lines it wrote on stderr (and how many of them warned) and
  /// the last of them (at most 16 KiB: a chatty tap's whole stderr does not belong in a log
  /// document), and the fields dropped or nulled per stream.
  nlohmann::json RunLogDetails() const override {
    nlohmann::json details = details_;
    if (details.is_null()) details = nlohmann::json::object();
    details.update(field_report_);
    return details;
  }

  /// Runs the tap with --discover and returns its catalog, in the tap's own key order,
  /// with `streams` marked selected (all when empty) and the replication asked of them.
  /// Errors when a requested stream is not in the catalog.
  static arrow::Result<nlohmann::ordered_json> DiscoverAndSelect(
      const SingerSourceOptions& options);

 private:
  void SetRunning(TapProcess* tap);

  SingerSourceOptions options_;
  std::atomic<bool> cancelled_{false};
  /// The tap while Run() has it, for Cancel(). Run() clears it under the mutex before it
  /// frees the tap, so it waits for a Terminate() under way instead of freeing under it.
  std::mutex running_mutex_;
  TapProcess* running_ = nullptr;
  nlohmann::json details_;
  nlohmann::json field_report_ = nlohmann::json::object();  ///< dropped / nulled counts
};

}  // namespace lakepipe::singer
