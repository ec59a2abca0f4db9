#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/status.h>

namespace lakepipe::singer {

/// How often something happened to a field, by field path ("amount", "customer.zip"), with
/// a description of the first occurrence ("" when there is nothing more to say).
struct FieldCount {
  int64_t count = 0;
  std::string first;
};
using FieldCounts = std::map<std::string, FieldCount, std::less<>>;

/// What to do with a value that does not fit its column's type.
enum class OnTypeError {
  kFail,    ///< fail the run (default): nothing is silently changed
  kNull,    ///< store NULL in the innermost field whose value is wrong ("customer.zip", one
            ///< list item "tags[]"); fail when that field is not nullable
  kString,  ///< turn the record's column holding the value ("customer" for "customer.zip")
            ///< into text from then on: strings as they are, other values as JSON text
};

/// Builds Arrow record batches from Singer RECORD objects of one stream, column by column,
/// straight from JSON text (no intermediate DOM), following an Arrow schema made by
/// JsonSchemaToArrow. Fields may come in any order. Fields missing from a record are NULL
/// (an error for a non-nullable field); fields not in the schema, at any depth, are ignored
/// and counted. A field given twice in one object is an error. Not thread-safe: one
/// builder per stream.
///
/// What each column accepts (anything else is a type error; null only when nullable):
///   int64: JSON integers, and floats with an integral value (3.0) in int64 range;
///   float64: any JSON number; decimal128(p, s): a JSON number, or a string holding one,
///   that fits (p, s) without rounding; bool: true/false; utf8: JSON strings;
///   timestamp: ISO-8601 / RFC 3339 strings ("2024-01-31T10:00:00.5+02:00"; 'Z' or an
///   offset, none means UTC; digits beyond the unit are truncated), stored as UTC;
///   date32: "YYYY-MM-DD", or a date-time at exactly 00:00 UTC; time64: "HH:MM[:SS[.f]]"
///   with an optional 'Z' or offset, brought to UTC modulo 24 h; struct: objects;
///   list: arrays; utf8 with metadata "lakepipe.json" = "true": any value, stored as its
///   JSON text as written in the record.
/// Type errors and missing required fields are arrow::Status::TypeError; malformed JSON and
/// repeated fields are Invalid; a schema with a type not listed above fails in Make().
class RecordBatchBuilder {
 public:
  static arrow::Result<std::unique_ptr<RecordBatchBuilder>> Make(
      std::shared_ptr<arrow::Schema> schema, OnTypeError on_type_error = OnTypeError::kFail);
  virtual ~RecordBatchBuilder() = default;

  /// Appends one record given as the JSON text of an object. `json` must stay readable for
  /// at least simdjson::SIMDJSON_PADDING bytes past its end (a line inside a larger read
  /// buffer is fine). On error the message names the field path and the offending value,
  /// e.g. "field 'amount': expected number, got string \"12,50\""; the caller adds
  /// pipeline, stream and line. After an error the builder must not be used again:
  /// later Append() and Flush() calls return Invalid.
  virtual arrow::Status Append(std::string_view json) = 0;

  /// The schema of the rows appended since the last Flush(): the one given to Make(), or
  /// under OnTypeError::kString, that schema with the columns turned to text so far (utf8,
  /// field metadata "lakepipe.json" = "text"; the returned pointer changes when one is).
  /// The rows appended since the last Flush() are re-read into the new schema, so a caller
  /// that flushes before each change of schema() sees every batch under one schema.
  virtual const std::shared_ptr<arrow::Schema>& schema() const = 0;
  /// Under OnTypeError::kString, why the last column was turned to text: the type error of
  /// the value that did not fit ("field 'amount': expected number, got string \"12,50\"").
  virtual const std::string& last_text_fallback() const = 0;

  /// Rows appended since the last Flush().
  virtual int64_t num_rows() const = 0;
  /// Approximate bytes held by the builders (for batching by size): fixed widths plus
  /// string bytes, counted as values are appended.
  virtual int64_t estimated_bytes() const = 0;
  /// Fields seen in records that the schema does not have (counted, not stored), one per
  /// occurrence, since Make(); Flush() does not reset it.
  virtual int64_t ignored_fields() const = 0;
  /// The same, by field path.
  virtual const FieldCounts& dropped_fields() const = 0;
  /// Values stored as NULL under OnTypeError::kNull since Make(), by field path, with the
  /// type error of the first one.
  virtual const FieldCounts& nulled_values() const = 0;

  /// Returns the rows appended so far as one batch (possibly empty) whose schema is
  /// schema(), metadata included, and resets the builders.
  virtual arrow::Result<std::shared_ptr<arrow::RecordBatch>> Flush() = 0;
};

}  // namespace lakepipe::singer
