#include "lakepipe/singer/record_batch_builder.h"

#include <utility>
#include <vector>

#include <arrow/array.h>
#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <simdjson.h>

#include "lakepipe/singer/column_appender_internal.h"
#include "lakepipe/singer/json_schema.h"

namespace lakepipe::singer {
namespace {

/// Parses each record with one reused simdjson on-demand parser and streams its members
/// into the column appenders of internal::FieldSet.
class SimdjsonRecordBatchBuilder : public RecordBatchBuilder {
 public:
  static arrow::Result<std::unique_ptr<RecordBatchBuilder>> Make(
      std::shared_ptr<arrow::Schema> schema, OnTypeError on_type_error) {
    auto builder = std::unique_ptr<SimdjsonRecordBatchBuilder>(
        new SimdjsonRecordBatchBuilder(std::move(schema), on_type_error));
    ARROW_ASSIGN_OR_RAISE(builder->columns_, internal::FieldSet::Make(builder->schema_->fields(),
                                                                      "", builder->context_.get()));
    return builder;
  }

  arrow::Status Append(std::string_view json) override {
    ARROW_RETURN_NOT_OK(CheckUsable());
    context_->counted_in_record.clear();
    arrow::Status status = AppendRecord(json);
    if (!status.ok() && context_->on_type_error == OnTypeError::kString) {
      status = FallBackToText(json, std::move(status));
    }
    if (!status.ok()) {
      failed_ = true;
      return status;
    }
    if (context_->on_type_error == OnTypeError::kString) KeepForReplay(json);
    return status;
  }

  const std::shared_ptr<arrow::Schema>& schema() const override { return schema_; }
  const std::string& last_text_fallback() const override { return last_text_fallback_; }
  int64_t num_rows() const override { return num_rows_; }
  int64_t estimated_bytes() const override { return context_->estimated_bytes; }
  int64_t ignored_fields() const override {
    int64_t total = 0;
    for (const auto& [path, dropped] : context_->dropped) total += dropped.count;
    return total;
  }
  const FieldCounts& dropped_fields() const override { return context_->dropped; }
  const FieldCounts& nulled_values() const override { return context_->nulled; }

  arrow::Result<std::shared_ptr<arrow::RecordBatch>> Flush() override {
    ARROW_RETURN_NOT_OK(CheckUsable());
    std::vector<std::shared_ptr<arrow::Array>> arrays;
    arrays.reserve(columns_.appenders().size());
    for (const auto& appender : columns_.appenders()) {
      std::shared_ptr<arrow::Array> array;
      arrow::Status status = appender->builder()->Finish(&array);
      if (!status.ok()) {
        failed_ = true;
        return status;
      }
      arrays.push_back(std::move(array));
    }
    auto batch = arrow::RecordBatch::Make(schema_, num_rows_, std::move(arrays));
    num_rows_ = 0;
    context_->estimated_bytes = 0;
    replay_text_.clear();
    replay_ends_.clear();
    return batch;
  }

 private:
  SimdjsonRecordBatchBuilder(std::shared_ptr<arrow::Schema> schema, OnTypeError on_type_error)
      : schema_(std::move(schema)), context_(std::make_unique<internal::AppendContext>()) {
    context_->on_type_error = on_type_error;
  }

  /// Under OnTypeError::kString: while `error` is a value rejected for its column's type,
  /// turns that column into text, rebuilds the builders and re-reads the rows since the
  /// last Flush() and `json`. Each round turns one more column, so this ends.
  arrow::Status FallBackToText(std::string_view json, arrow::Status error) {
    while (error.IsTypeError() && context_->rejected && context_->rejected_column >= 0) {
      const int column = context_->rejected_column;
      const auto& field = schema_->field(column);
      auto metadata = field->metadata() ? field->metadata()->Copy()
                                        : std::make_shared<arrow::KeyValueMetadata>();
      if (metadata->Get(kJsonMetadataKey).ValueOr("") == kJsonMetadataTextFallback) break;
      ARROW_RETURN_NOT_OK(metadata->Set(kJsonMetadataKey, kJsonMetadataTextFallback));
      ARROW_ASSIGN_OR_RAISE(schema_,
                            schema_->SetField(column, arrow::field(field->name(), arrow::utf8(),
                                                                   field->nullable(), metadata)));
      last_text_fallback_ = error.message();
      ARROW_ASSIGN_OR_RAISE(columns_,
                            internal::FieldSet::Make(schema_->fields(), "", context_.get()));
      error = Replay(json);
    }
    return error;
  }

  /// Appends the kept rows, then `json`, to freshly made builders. The kept rows' dropped
  /// fields were counted already, and so was part of `json`: that part is taken back.
  arrow::Status Replay(std::string_view json) {
    context_->UncountRecord();
    num_rows_ = 0;
    context_->estimated_bytes = 0;
    // simdjson reads up to SIMDJSON_PADDING bytes past each record: pad the last one.
    const size_t kept = replay_text_.size();
    replay_text_.append(simdjson::SIMDJSON_PADDING, ' ');
    size_t begin = 0;
    context_->replaying = true;
    for (size_t end : replay_ends_) {
      auto status = AppendRecord(std::string_view(replay_text_).substr(begin, end - begin));
      if (!status.ok()) {
        context_->replaying = false;
        return status;
      }
      begin = end;
    }
    context_->replaying = false;
    replay_text_.resize(kept);
    return AppendRecord(json);
  }

  void KeepForReplay(std::string_view json) {
    replay_text_.append(json);
    replay_ends_.push_back(replay_text_.size());
  }

  arrow::Status CheckUsable() const {
    if (failed_) return arrow::Status::Invalid("record batch builder used after an error");
    return arrow::Status::OK();
  }

  arrow::Status AppendRecord(std::string_view json) {
    context_->rejected = false;
    context_->rejected_column = -1;
    simdjson::padded_string_view input(json.data(), json.size(),
                                       json.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document document;
    if (auto error = parser_.iterate(input).get(document)) return internal::JsonError("", error);
    simdjson::ondemand::json_type type;
    if (auto error = document.type().get(type)) return internal::JsonError("", error);
    if (type != simdjson::ondemand::json_type::object) {
      return arrow::Status::Invalid("record is not a JSON object");
    }
    simdjson::ondemand::object object;
    if (auto error = document.get_object().get(object)) return internal::JsonError("", error);
    ARROW_RETURN_NOT_OK(columns_.AppendObject(object));
    // The object is consumed; anything left but whitespace is a second value.
    const char* rest = nullptr;
    if (!document.current_location().get(rest)) {
      return arrow::Status::Invalid("record is not valid JSON: text after the object");
    }
    ++num_rows_;
    return arrow::Status::OK();
  }

  std::shared_ptr<arrow::Schema> schema_;
  // Appenders keep a pointer to the context, so it stays put when the builder moves.
  const std::unique_ptr<internal::AppendContext> context_;
  simdjson::ondemand::parser parser_;
  internal::FieldSet columns_;
  int64_t num_rows_ = 0;
  bool failed_ = false;
  // Under OnTypeError::kString: the records since the last Flush(), back to back, and
  // where each ends, to re-read them when a column turns to text.
  std::string replay_text_;
  std::vector<size_t> replay_ends_;
  std::string last_text_fallback_;
};

}  // namespace

arrow::Result<std::unique_ptr<RecordBatchBuilder>> RecordBatchBuilder::Make(
    std::shared_ptr<arrow::Schema> schema, OnTypeError on_type_error) {
  if (!schema) return arrow::Status::Invalid("record batch builder needs a schema");
  return SimdjsonRecordBatchBuilder::Make(std::move(schema), on_type_error);
}

}  // namespace lakepipe::singer
