#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/status.h>
#include <nlohmann/json.hpp>

namespace lakepipe::sources {

/// Receives what a source produces. Calls come from the source's thread, in order.
class IngestSink {
 public:
  virtual ~IngestSink() = default;
  /// A stream starts, or its schema changed: later batches of the stream have `schema`
  /// (a new schema starts a new file).
  virtual arrow::Status OnSchema(const std::string& stream,
                                 const std::shared_ptr<arrow::Schema>& schema) = 0;
  /// What identifies a stream's rows, when the source knows: Singer's `key_properties`
  /// and `bookmark_properties` of its SCHEMA message (the replication key first). Called
  /// before the stream's first batch; the default ignores it.
  virtual arrow::Status OnKeys(const std::string& stream,
                               const std::vector<std::string>& key_properties,
                               const std::vector<std::string>& bookmark_properties) {
    return arrow::Status::OK();
  }
  /// Rows of a stream, with the schema last announced for it.
  virtual arrow::Status OnBatch(const std::string& stream,
                                const std::shared_ptr<arrow::RecordBatch>& batch) = 0;
  /// A bookmark covering every batch handed over before it (Singer STATE semantics). It
  /// is stored only when the run commits.
  virtual arrow::Status OnState(const nlohmann::json& state) = 0;
};

/// Anything that produces streams of record batches: a Singer tap, a built-in reader.
class IngestSource {
 public:
  virtual ~IngestSource() = default;
  /// Produces everything into `sink`. An error from the sink stops the source and is
  /// returned as is. Errors of the source name the stream and the line or file.
  virtual arrow::Status Run(IngestSink* sink) = 0;
  /// Asks a running source to stop soon (Ctrl-C); Run() then returns Cancelled.
  virtual void Cancel() = 0;
  /// What the run log should keep about the source after Run() (e.g. a tap's stderr);
  /// null when there is nothing.
  virtual nlohmann::json RunLogDetails() const { return nullptr; }
};

}  // namespace lakepipe::sources
