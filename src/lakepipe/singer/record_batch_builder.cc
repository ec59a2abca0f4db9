#include "lakepipe/singer/record_batch_builder.h"

#include <utility>
#include <vector>

#include <arrow/array.h>
#include <arrow/type.h>
#include <simdjson.h>

#include "lakepipe/singer/column_appender_internal.h"

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
    arrow::Status status = AppendRecord(json);
    if (!status.ok()) failed_ = true;
    return status;
  }

  int64_t num_rows() const override { return num_rows_; }
  int64_t estimated_bytes() const override { return context_->estimated_bytes; }
  int64_t ignored_fields() const override { return context_->ignored_fields; }

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
    return batch;
  }

 private:
  SimdjsonRecordBatchBuilder(std::shared_ptr<arrow::Schema> schema, OnTypeError on_type_error)
      : schema_(std::move(schema)), context_(std::make_unique<internal::AppendContext>()) {
    context_->on_type_error = on_type_error;
  }

  arrow::Status CheckUsable() const {
    if (failed_) return arrow::Status::Invalid("record batch builder used after an error");
    return arrow::Status::OK();
  }

  arrow::Status AppendRecord(std::string_view json) {
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

  const std::shared_ptr<arrow::Schema> schema_;
  // Appenders keep a pointer to the context, so it stays put when the builder moves.
  const std::unique_ptr<internal::AppendContext> context_;
  simdjson::ondemand::parser parser_;
  internal::FieldSet columns_;
  int64_t num_rows_ = 0;
  bool failed_ = false;
};

}  // namespace

arrow::Result<std::unique_ptr<RecordBatchBuilder>> RecordBatchBuilder::Make(
    std::shared_ptr<arrow::Schema> schema, OnTypeError on_type_error) {
  if (!schema) return arrow::Status::Invalid("record batch builder needs a schema");
  return SimdjsonRecordBatchBuilder::Make(std::move(schema), on_type_error);
}

}  // namespace lakepipe::singer
