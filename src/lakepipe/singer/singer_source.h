#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lakepipe/singer/record_batch_builder.h"
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
  /// document).
  nlohmann::json RunLogDetails() const override { return details_; }

  /// Runs the tap with --discover and returns its catalog with `streams` marked selected.
  /// Errors when a requested stream is not in the catalog.
  static arrow::Result<nlohmann::json> DiscoverAndSelect(const SingerSourceOptions& options);

 private:
  void SetRunning(TapProcess* tap);

  SingerSourceOptions options_;
  std::atomic<bool> cancelled_{false};
  /// The tap while Run() has it, for Cancel(). Run() clears it under the mutex before it
  /// frees the tap, so it waits for a Terminate() under way instead of freeing under it.
  std::mutex running_mutex_;
  TapProcess* running_ = nullptr;
  nlohmann::json details_;
};

}  // namespace lakepipe::singer
