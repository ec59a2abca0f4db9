// Fuzzes singer::RecordBatchBuilder: one stream's schema, then its records, appended and
// flushed, with every batch checked by Arrow's full validation.
//
// Input: byte 0 picks the OnTypeError policy; the rest is lines. The first line is the
// stream's JSON Schema; when it does not map (e.g. it is empty) a built-in schema with
// every supported type is used. Each further line is one record, and an empty line
// flushes. Each record sits alone in a heap block with exactly SIMDJSON_PADDING bytes after
// it, the least the builder's contract allows, so ASan sees any read past that.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <arrow/record_batch.h>
#include <arrow/type.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "lakepipe/singer/json_schema.h"
#include "lakepipe/singer/record_batch_builder.h"

namespace {

using lakepipe::singer::OnTypeError;
using lakepipe::singer::RecordBatchBuilder;

constexpr char kBuiltInSchema[] = R"({"type": "object", "required": ["id"], "properties": {
  "id": {"type": "integer"},
  "n": {"type": ["null", "number"]},
  "d": {"type": "number", "multipleOf": 0.01, "maximum": 1000000},
  "sd": {"type": "string", "format": "singer.decimal", "precision": 20, "scale": 4},
  "b": {"type": "boolean"},
  "s": {"type": "string"},
  "ts": {"type": "string", "format": "date-time"},
  "dt": {"type": "string", "format": "date"},
  "tm": {"type": "string", "format": "time"},
  "o": {"type": "object", "required": ["x"],
        "properties": {"x": {"type": "integer"}, "y": {"type": ["null", "string"]}}},
  "l": {"type": "array", "items": {"type": ["null", "integer"]}},
  "j": {"type": "object"},
  "u": {"type": ["string", "integer"]}}})";

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "record_batch_builder_fuzzer: %s\n", what.c_str());
  std::abort();
}

std::shared_ptr<arrow::Schema> SchemaOf(std::string_view text) {
  auto json = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return nullptr;
  auto schema = lakepipe::singer::JsonSchemaToArrow(json);
  return schema.ok() ? *schema : nullptr;
}

/// Flushes and checks the batch against what was appended since the last flush.
void FlushAndCheck(RecordBatchBuilder* builder, int64_t rows) {
  const auto schema = builder->schema();
  auto batch = builder->Flush();
  if (!batch.ok()) Fail("Flush after good appends: " + batch.status().ToString());
  if ((*batch)->num_rows() != rows) Fail("batch has the wrong number of rows");
  if (!(*batch)->schema()->Equals(*schema, /*check_metadata=*/true)) {
    Fail("batch schema differs from schema()");
  }
  auto status = (*batch)->ValidateFull();
  if (!status.ok()) Fail("invalid batch: " + status.ToString());
  if (builder->num_rows() != 0) Fail("rows left after Flush");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto policy = static_cast<OnTypeError>(data[0] % 3);
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto newline = text.find('\n');
  auto schema = SchemaOf(text.substr(0, newline));
  static const auto kBuiltIn = SchemaOf(kBuiltInSchema);  // immutable after the first input
  if (!schema) schema = kBuiltIn;
  text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  auto builder = RecordBatchBuilder::Make(schema, policy).ValueOrDie();

  int64_t rows = 0;
  while (!text.empty()) {
    newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.empty()) {
      FlushAndCheck(builder.get(), rows);
      rows = 0;
      continue;
    }
    auto record = std::make_unique<char[]>(line.size() + simdjson::SIMDJSON_PADDING);
    std::copy(line.begin(), line.end(), record.get());
    std::fill_n(record.get() + line.size(), simdjson::SIMDJSON_PADDING, ' ');
    auto status = builder->Append(std::string_view(record.get(), line.size()));
    if (!status.ok()) {
      // The builder is unusable after an error, and says so.
      const std::string empty = "{}" + std::string(simdjson::SIMDJSON_PADDING, ' ');
      if (!builder->Append(std::string_view(empty).substr(0, 2)).IsInvalid() ||
          !builder->Flush().status().IsInvalid()) {
        Fail("builder still usable after: " + status.ToString());
      }
      return 0;
    }
    if (builder->num_rows() != ++rows) Fail("num_rows() does not count the appended rows");
  }
  FlushAndCheck(builder.get(), rows);
  return 0;
}
