#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/scalar.h>
#include <nlohmann/json.hpp>

namespace lakepipe::pipeline {

/// Incremental taps select `replication_key >= bookmark` (Singer's convention: rows at the
/// bookmark may have changed since), so every run sends the rows at the bookmark again. This
/// keeps, per stream, the newest committed replication-key value and the keys of the rows
/// that have it (the "boundary"), drops incoming rows that match both, and tracks the new
/// boundary as rows go by. A row is identified by its key properties, or by all its values
/// when the stream has none. Saved in the pipeline's state as
/// `{"lakepipe": {"boundaries": {"<stream>": {"replication_key": .., "value": .., "keys": [..]}}}}`
/// (docs/FORMATS.md). Not thread-safe: the run's source thread owns it.
class BoundaryFilter {
 public:
  /// `saved` is the "boundaries" object of the last committed state, or null for none (a
  /// first or full run: nothing is dropped, the boundary is still tracked).
  static arrow::Result<BoundaryFilter> FromState(const nlohmann::json& saved);

  /// How `stream` identifies rows. An empty `replication_key` turns the filter off for it.
  void SetKeys(const std::string& stream, const std::string& replication_key,
               const std::vector<std::string>& key_properties);

  /// `batch` without the rows a committed run already holds; records the kept rows'
  /// boundary.
  arrow::Result<std::shared_ptr<arrow::RecordBatch>> Apply(
      const std::string& stream, const std::shared_ptr<arrow::RecordBatch>& batch);

  /// The boundaries to save with this run's state.
  arrow::Result<nlohmann::json> ToState() const;

  /// Rows dropped per stream (for the run log), only streams with any.
  nlohmann::json DroppedRows() const;

 private:
  struct Boundary {
    std::string replication_key;
    std::vector<std::string> key_properties;
    /// Of the last committed run: its value as text and the keys of its rows.
    std::string saved_value;
    std::set<std::string> saved_keys;
    /// Seen in this run, over kept rows (and the saved boundary): the newest value and the
    /// keys of the rows that have it.
    std::shared_ptr<arrow::Scalar> newest;
    std::set<std::string> newest_keys;
    int64_t dropped = 0;
  };

  arrow::Status Track(Boundary& boundary, const arrow::RecordBatch& kept,
                      const std::shared_ptr<arrow::Array>& key_column);

  std::map<std::string, Boundary> boundaries_;
};

}  // namespace lakepipe::pipeline
