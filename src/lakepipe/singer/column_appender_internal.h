#pragma once

// Per-column appenders behind RecordBatchBuilder: each turns one simdjson on-demand value
// into one slot of an Arrow builder. Only record_batch_builder.cc and the tests use this.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <arrow/array/builder_base.h>
#include <arrow/result.h>
#include <arrow/status.h>
#include <arrow/type_fwd.h>
#include <arrow/util/value_parsing.h>
#include <simdjson.h>

#include "lakepipe/singer/record_batch_builder.h"

namespace lakepipe::singer::internal {

/// State shared by every appender of one RecordBatchBuilder.
struct AppendContext {
  OnTypeError on_type_error = OnTypeError::kFail;
  std::shared_ptr<arrow::TimestampParser> timestamp_parser = arrow::TimestampParser::MakeISO8601();
  int64_t estimated_bytes = 0;
  /// Fields not in the schema, and values stored as NULL under OnTypeError::kNull, by path.
  FieldCounts dropped;
  FieldCounts nulled;
  /// Counts added while appending the current record, so that a record read again (after
  /// a column fell back to text) is not counted twice. std::map nodes are stable.
  std::vector<int64_t*> counted_in_record;
  /// Rows re-read after a text fallback were counted the first time.
  bool replaying = false;

  /// Counts one occurrence at `path`; `example` describes the first one.
  void Count(FieldCounts* counts, std::string_view path, std::string_view example = {});
  /// Takes back what the current record counted.
  void UncountRecord();
  /// Set when a value was rejected for its type (not for being null or missing) ...
  bool rejected = false;
  /// ... and the index of the record's column that holds it (-1 before).
  int rejected_column = -1;
};

/// "record is not valid JSON: …" for the record itself (empty path), else
/// "invalid JSON in field '<path>': …".
arrow::Status JsonError(const std::string& path, simdjson::error_code error);

/// Appends the values of one field (and, for struct and list, of its children) to one
/// Arrow builder. A value is checked and converted before anything is appended for it, so
/// a type error absorbed under OnTypeError::kNull leaves every builder aligned; any error
/// returned leaves the row partly appended (the record builder is then unusable).
class ColumnAppender {
 public:
  virtual ~ColumnAppender() = default;

  /// Appends one JSON value, null included.
  arrow::Status Append(simdjson::ondemand::value value);
  /// Appends NULL for a field absent from its object; a TypeError when it is required.
  arrow::Status AppendMissing();

  const std::shared_ptr<arrow::ArrayBuilder>& builder() const { return builder_; }

 protected:
  ColumnAppender(std::string path, bool nullable, int64_t width, AppendContext* context,
                 std::shared_ptr<arrow::ArrayBuilder> builder);

  /// Appends a non-null value of JSON type `type`.
  virtual arrow::Status AppendValue(simdjson::ondemand::value& value,
                                    simdjson::ondemand::json_type type) = 0;

  arrow::Status AppendNull();
  /// The type error for `value`, or NULL appended instead under OnTypeError::kNull.
  arrow::Status Reject(std::string_view expected, simdjson::ondemand::value& value,
                       simdjson::ondemand::json_type type);
  void CountBytes(int64_t bytes) { context_->estimated_bytes += bytes; }

  const std::string path_;
  const bool nullable_;
  const int64_t width_;  ///< bytes counted per slot, null or not
  AppendContext* const context_;

 private:
  std::shared_ptr<arrow::ArrayBuilder> builder_;
};

/// Makes the appender for `field`; `path` names it in messages ("customer.zip", "tags[]").
/// NotImplemented for a type RecordBatchBuilder does not support.
arrow::Result<std::unique_ptr<ColumnAppender>> MakeColumnAppender(const arrow::Field& field,
                                                                  std::string path,
                                                                  AppendContext* context);

/// The members of a JSON object matched to a fixed list of fields by name, in any order:
/// the columns of a record, or the children of a struct.
class FieldSet {
 public:
  /// `path` is the object's own path ("" for the record).
  static arrow::Result<FieldSet> Make(const arrow::FieldVector& fields, const std::string& path,
                                      AppendContext* context);

  /// Appends one slot to every field: the object's members, then NULL for fields it lacks.
  arrow::Status AppendObject(simdjson::ondemand::object object);

  const std::vector<std::unique_ptr<ColumnAppender>>& appenders() const { return appenders_; }

 private:
  std::string path_;
  AppendContext* context_ = nullptr;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<ColumnAppender>> appenders_;
  std::unordered_map<std::string_view, size_t> index_;  ///< views into names_
  size_t next_guess_ = 0;       ///< the field expected next in the object being appended
  std::vector<uint64_t> seen_;  ///< generation_ of the object that last set each field
  uint64_t generation_ = 0;
};

}  // namespace lakepipe::singer::internal
