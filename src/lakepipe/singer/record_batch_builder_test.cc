#include "lakepipe/singer/record_batch_builder.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <arrow/api.h>
#include <arrow/json/from_string.h>
#include <arrow/util/key_value_metadata.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "lakepipe/singer/json_schema.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::singer {
namespace {

using arrow::field;

/// Appends `text` from a padded copy, as a reader's buffer would hold it.
arrow::Status AppendText(RecordBatchBuilder& builder, std::string_view text) {
  simdjson::padded_string padded(text);
  return builder.Append(std::string_view(padded.data(), padded.size()));
}

std::shared_ptr<arrow::RecordBatch> Build(const std::shared_ptr<arrow::Schema>& schema,
                                          const std::vector<std::string>& records,
                                          OnTypeError on_type_error = OnTypeError::kFail) {
  auto builder = RecordBatchBuilder::Make(schema, on_type_error).ValueOrDie();
  for (const auto& record : records) {
    auto status = AppendText(*builder, record);
    EXPECT_OK(status);
  }
  auto batch = builder->Flush().ValueOrDie();
  auto valid = batch->ValidateFull();
  EXPECT_OK(valid);
  EXPECT_TRUE(batch->schema()->Equals(*schema, /*check_metadata=*/true))
      << batch->schema()->ToString(true);
  for (const auto& column : batch->columns()) {
    EXPECT_EQ(column->length(), batch->num_rows());
  }
  return batch;
}

/// The first error appending `records`, or OK.
arrow::Status FirstError(const std::shared_ptr<arrow::Schema>& schema,
                         const std::vector<std::string>& records,
                         OnTypeError on_type_error = OnTypeError::kFail) {
  auto builder = RecordBatchBuilder::Make(schema, on_type_error).ValueOrDie();
  for (const auto& record : records) ARROW_RETURN_NOT_OK(AppendText(*builder, record));
  return arrow::Status::OK();
}

void ExpectColumn(const arrow::RecordBatch& batch, int i, const std::string& expected_json) {
  auto expected =
      arrow::json::ArrayFromJSONString(batch.column(i)->type(), expected_json).ValueOrDie();
  EXPECT_TRUE(batch.column(i)->Equals(*expected)) << batch.column(i)->ToString() << "\nexpected\n"
                                                  << expected->ToString();
}

std::shared_ptr<arrow::Schema> One(std::shared_ptr<arrow::DataType> type, bool nullable = true) {
  return arrow::schema({field("a", std::move(type), nullable)});
}

std::shared_ptr<arrow::Field> JsonField(const std::string& name) {
  return field(name, arrow::utf8(), true, arrow::key_value_metadata({kJsonMetadataKey}, {"true"}));
}

const auto kTimestamp = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
constexpr int64_t k2024 = int64_t{1704067200} * 1000000;  // 2024-01-01T00:00:00Z in µs

// --- type mappings --------------------------------------------------------------------

TEST(RecordBatchBuilderTest, Int64FromIntegers) {
  auto batch = Build(One(arrow::int64()),
                     {R"({"a": 1})", R"({"a": -9223372036854775808})", R"({"a": null})"});
  ExpectColumn(*batch, 0, "[1, -9223372036854775808, null]");
}

TEST(RecordBatchBuilderTest, Int64AcceptsFloatsWithIntegralValue) {
  auto batch = Build(One(arrow::int64()), {R"({"a": 3.0})", R"({"a": 1e2})"});
  ExpectColumn(*batch, 0, "[3, 100]");
}

TEST(RecordBatchBuilderTest, Float64AcceptsIntegersAndFloats) {
  auto batch = Build(One(arrow::float64()), {R"({"a": 2})", R"({"a": -0.5})", R"({"a": 1e3})"});
  ExpectColumn(*batch, 0, "[2.0, -0.5, 1000.0]");
}

TEST(RecordBatchBuilderTest, Decimal128KeepsTheExactDigitsAtTheColumnScale) {
  auto batch = Build(One(arrow::decimal128(10, 2)),
                     {R"({"a": 12.5})", R"({"a": -0.01})", R"({"a": 12.3400})", R"({"a": 1e2})",
                      R"({"a": 12345678.99})"});
  ExpectColumn(*batch, 0, R"(["12.50", "-0.01", "12.34", "100.00", "12345678.99"])");
}

TEST(RecordBatchBuilderTest, Decimal128AcceptsAStringHoldingANumber) {
  auto batch = Build(One(arrow::decimal128(38, 9)), {R"({"a": "1234567890.123456789"})"});
  ExpectColumn(*batch, 0, R"(["1234567890.123456789"])");
}

TEST(RecordBatchBuilderTest, BooleanFromTrueAndFalse) {
  auto batch = Build(One(arrow::boolean()), {R"({"a": true})", R"({"a": false})"});
  ExpectColumn(*batch, 0, "[true, false]");
}

TEST(RecordBatchBuilderTest, StringIsUnescaped) {
  auto batch = Build(One(arrow::utf8()), {R"({"a": "line\none \"q\" \u00e9"})"});
  ExpectColumn(*batch, 0, R"(["line\none \"q\" é"])");
}

TEST(RecordBatchBuilderTest, TimestampWithZ) {
  auto batch = Build(One(kTimestamp), {R"({"a": "2024-01-01T00:00:00Z"})"});
  ExpectColumn(*batch, 0, "[" + std::to_string(k2024) + "]");
}

TEST(RecordBatchBuilderTest, TimestampWithOffsetIsConvertedToUtc) {
  auto batch = Build(One(kTimestamp), {R"({"a": "2024-01-01T02:30:00+02:30"})",
                                       R"({"a": "2023-12-31T19:00:00-05:00"})"});
  ExpectColumn(*batch, 0, "[" + std::to_string(k2024) + ", " + std::to_string(k2024) + "]");
}

TEST(RecordBatchBuilderTest, TimestampWithFractionKeepsMicroseconds) {
  auto batch = Build(One(kTimestamp), {R"({"a": "2024-01-01T00:00:00.5Z"})",
                                       R"({"a": "2024-01-01T01:00:00.123456+01:00"})"});
  ExpectColumn(*batch, 0,
               "[" + std::to_string(k2024 + 500000) + ", " + std::to_string(k2024 + 123456) + "]");
}

TEST(RecordBatchBuilderTest, TimestampFractionBeyondMicrosecondsIsTruncated) {
  auto batch = Build(One(kTimestamp), {R"({"a": "2024-01-01T00:00:00.123456789Z"})"});
  ExpectColumn(*batch, 0, "[" + std::to_string(k2024 + 123456) + "]");
}

TEST(RecordBatchBuilderTest, TimestampWithoutZoneOrInLowercaseIsUtc) {
  auto batch =
      Build(One(kTimestamp), {R"({"a": "2024-01-01T00:00:00"})", R"({"a": "2024-01-01 00:00:00"})",
                              R"({"a": "2024-01-01t00:00:00.000000001z"})"});
  ExpectColumn(*batch, 0,
               "[" + std::to_string(k2024) + ", " + std::to_string(k2024) + ", " +
                   std::to_string(k2024) + "]");
}

TEST(RecordBatchBuilderTest, DateFromIsoDate) {
  auto batch = Build(One(arrow::date32()), {R"({"a": "2024-01-01"})", R"({"a": "1969-12-31"})"});
  ExpectColumn(*batch, 0, "[19723, -1]");
}

TEST(RecordBatchBuilderTest, DateFromDateTimeAtMidnightUtc) {
  auto batch = Build(One(arrow::date32()),
                     {R"({"a": "2024-01-01T00:00:00Z"})", R"({"a": "2024-01-01T02:00:00+02:00"})"});
  ExpectColumn(*batch, 0, "[19723, 19723]");
}

TEST(RecordBatchBuilderTest, TimeWithFractionAndOffsetIsUtcTimeOfDay) {
  auto batch = Build(One(arrow::time64(arrow::TimeUnit::MICRO)),
                     {R"({"a": "10:30:15.25"})", R"({"a": "10:30"})", R"({"a": "01:00:00+02:00"})",
                      R"({"a": "23:59:59Z"})"});
  ExpectColumn(*batch, 0, "[37815250000, 37800000000, 82800000000, 86399000000]");
}

TEST(RecordBatchBuilderTest, JsonTextColumnKeepsEachValueAsWritten) {
  auto schema = arrow::schema({JsonField("a")});
  auto batch = Build(schema, {R"({"a": {"x": [1, 2], "y": "z"} })", R"({"a": [true, null]})",
                              R"({"a": "s"})", R"({"a": 1.50})", R"({"a": null})"});
  ExpectColumn(*batch, 0, R"(["{\"x\": [1, 2], \"y\": \"z\"}", "[true, null]", "\"s\"",
                              "1.50", null])");
}

TEST(RecordBatchBuilderTest, NestedStructRoundTrip) {
  auto address = arrow::struct_({field("zip", arrow::utf8()), field("floor", arrow::int64())});
  auto customer = arrow::struct_({field("name", arrow::utf8(), false), field("address", address)});
  auto batch =
      Build(One(customer), {R"({"a": {"name": "Ann", "address": {"zip": "0100", "floor": 2}}})",
                            R"({"a": {"name": "Bob", "address": null}})", R"({"a": null})",
                            R"({"a": {"address": {"floor": 3}, "name": "Cy"}})"});
  ExpectColumn(*batch, 0, R"([{"name": "Ann", "address": {"zip": "0100", "floor": 2}},
                              {"name": "Bob", "address": null}, null,
                              {"name": "Cy", "address": {"zip": null, "floor": 3}}])");
}

TEST(RecordBatchBuilderTest, ListOfStructRoundTrip) {
  auto line = arrow::struct_({field("sku", arrow::utf8(), false), field("qty", arrow::int64())});
  auto batch = Build(One(arrow::list(field("item", line, false))),
                     {R"({"a": [{"sku": "x", "qty": 2}, {"qty": null, "sku": "y"}]})",
                      R"({"a": []})", R"({"a": null})", R"({"a": [{"sku": "z"}]})"});
  ExpectColumn(*batch, 0, R"([[{"sku": "x", "qty": 2}, {"sku": "y", "qty": null}], [], null,
                              [{"sku": "z", "qty": null}]])");
}

TEST(RecordBatchBuilderTest, ListItemsMayBeNullWhenNullable) {
  auto batch =
      Build(One(arrow::list(field("item", arrow::int64(), true))), {R"({"a": [1, null, 3]})"});
  ExpectColumn(*batch, 0, "[[1, null, 3]]");
}

TEST(RecordBatchBuilderTest, SchemaFromJsonSchemaRoundTrip) {
  auto schema = JsonSchemaToArrow(nlohmann::ordered_json::parse(R"({
    "type": "object", "required": ["id"],
    "properties": {
      "id": {"type": "integer"},
      "amount": {"type": ["null", "number"], "multipleOf": 0.01, "maximum": 1e6,
                 "exclusiveMaximum": true},
      "at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
      "tags": {"type": "array", "items": {"type": "string"}},
      "meta": {"type": "object"}
    }})"))
                    .ValueOrDie();
  auto batch = Build(schema, {R"({"id": 7, "amount": 19.99, "at": "2024-01-01T00:00:00Z",
                                  "tags": ["a", "b"], "meta": {"k": 1}})"});
  ExpectColumn(*batch, 0, "[7]");
  ExpectColumn(*batch, 1, R"(["19.99"])");
  ExpectColumn(*batch, 2, "[" + std::to_string(k2024) + "]");
  ExpectColumn(*batch, 3, R"([["a", "b"]])");
  ExpectColumn(*batch, 4, R"(["{\"k\": 1}"])");
}

// --- record shape ---------------------------------------------------------------------

TEST(RecordBatchBuilderTest, MissingFieldsAreNull) {
  auto schema = arrow::schema({field("a", arrow::int64()), field("b", arrow::utf8())});
  auto batch = Build(schema, {R"({"a": 1})", R"({"b": "x"})", "{}"});
  ExpectColumn(*batch, 0, "[1, null, null]");
  ExpectColumn(*batch, 1, R"([null, "x", null])");
}

TEST(RecordBatchBuilderTest, FieldsInAnyOrder) {
  auto schema = arrow::schema(
      {field("a", arrow::int64()), field("b", arrow::utf8()), field("c", arrow::boolean())});
  auto batch =
      Build(schema, {R"({"a": 1, "b": "x", "c": true})", R"({"c": false, "a": 2, "b": "y"})",
                     R"({"b": "z", "c": true, "a": 3})"});
  ExpectColumn(*batch, 0, "[1, 2, 3]");
  ExpectColumn(*batch, 1, R"(["x", "y", "z"])");
  ExpectColumn(*batch, 2, "[true, false, true]");
}

TEST(RecordBatchBuilderTest, EscapedKeysMatchTheirFieldName) {
  auto batch = Build(One(arrow::int64()), {R"({"\u0061": 5})"});
  ExpectColumn(*batch, 0, "[5]");
}

TEST(RecordBatchBuilderTest, ExtraFieldsAreIgnoredAndCountedAtAnyDepth) {
  auto schema = arrow::schema({field("a", arrow::struct_({field("x", arrow::int64())}))});
  auto builder = RecordBatchBuilder::Make(schema).ValueOrDie();
  ASSERT_OK(AppendText(*builder, R"({"a": {"x": 1, "y": [1, {"z": 2}]}, "b": {"c": 3}})"));
  ASSERT_OK(AppendText(*builder, R"({"d": null, "a": {"x": 2}})"));
  EXPECT_EQ(builder->ignored_fields(), 3);
  const auto& dropped = builder->dropped_fields();
  ASSERT_EQ(dropped.size(), 3u);
  EXPECT_EQ(dropped.at("a.y").count, 1);
  EXPECT_EQ(dropped.at("b").count, 1);
  EXPECT_EQ(dropped.at("d").count, 1);
  auto batch = builder->Flush().ValueOrDie();
  ASSERT_OK(batch->ValidateFull());
  ExpectColumn(*batch, 0, R"([{"x": 1}, {"x": 2}])");
}

TEST(RecordBatchBuilderTest, NullPolicyCountsNulledValuesByPathWithTheFirstReason) {
  auto schema = arrow::schema({field("a", arrow::int64()), field("b", arrow::float64())});
  auto builder = RecordBatchBuilder::Make(schema, OnTypeError::kNull).ValueOrDie();
  for (const char* record : {R"({"a": "x", "b": 1})", R"({"a": true, "b": "y"})", R"({"a": 3})"}) {
    ASSERT_OK(AppendText(*builder, record));
  }
  const auto& nulled = builder->nulled_values();
  ASSERT_EQ(nulled.size(), 2u);
  EXPECT_EQ(nulled.at("a").count, 2);
  EXPECT_EQ(nulled.at("a").first, "expected integer, got string \"x\"");
  EXPECT_EQ(nulled.at("b").count, 1);
  EXPECT_EQ(nulled.at("b").first, "expected number, got string \"y\"");
}

TEST(RecordBatchBuilderTest, FlushResetsRowsAndBytes) {
  auto builder = RecordBatchBuilder::Make(One(arrow::utf8())).ValueOrDie();
  ASSERT_OK(AppendText(*builder, R"({"a": "first"})"));
  EXPECT_EQ(builder->num_rows(), 1);
  EXPECT_EQ(builder->Flush().ValueOrDie()->num_rows(), 1);
  EXPECT_EQ(builder->num_rows(), 0);
  EXPECT_EQ(builder->estimated_bytes(), 0);
  ASSERT_OK(AppendText(*builder, R"({"a": "second"})"));
  auto batch = builder->Flush().ValueOrDie();
  ASSERT_OK(batch->ValidateFull());
  ExpectColumn(*batch, 0, R"(["second"])");
}

TEST(RecordBatchBuilderTest, FlushWithoutRowsGivesEmptyBatch) {
  auto schema = One(arrow::list(field("item", arrow::int64())));
  auto batch = Build(schema, {});
  EXPECT_EQ(batch->num_rows(), 0);
}

TEST(RecordBatchBuilderTest, EstimatedBytesCountFixedWidthsAndStringBytes) {
  auto schema = arrow::schema({field("a", arrow::int64()), field("b", arrow::utf8())});
  auto builder = RecordBatchBuilder::Make(schema).ValueOrDie();
  ASSERT_OK(AppendText(*builder, R"({"a": 1, "b": "12345"})"));
  EXPECT_EQ(builder->estimated_bytes(), 8 + 4 + 5);
  ASSERT_OK(AppendText(*builder, R"({})"));
  EXPECT_EQ(builder->estimated_bytes(), 2 * (8 + 4) + 5);
}

// --- error messages -------------------------------------------------------------------

void ExpectTypeError(const std::shared_ptr<arrow::Schema>& schema, const std::string& record,
                     const std::string& message) {
  auto status = FirstError(schema, {record});
  EXPECT_TRUE(status.IsTypeError()) << status.ToString();
  EXPECT_EQ(status.message(), message);
}

TEST(RecordBatchBuilderTest, IntegerGivenStringNamesNestedPath) {
  auto schema = arrow::schema({field("customer", arrow::struct_({field("zip", arrow::int64())}))});
  ExpectTypeError(schema, R"({"customer": {"zip": "abc"}})",
                  "field 'customer.zip': expected integer, got string \"abc\"");
}

TEST(RecordBatchBuilderTest, IntegerGivenFractionIsATypeError) {
  ExpectTypeError(One(arrow::int64()), R"({"a": 2.5})",
                  "field 'a': expected integer, got number 2.5");
}

TEST(RecordBatchBuilderTest, IntegerOutOfInt64RangeIsATypeError) {
  ExpectTypeError(One(arrow::int64()), R"({"a": 9223372036854775808 })",
                  "field 'a': expected integer within int64 range, got number "
                  "9223372036854775808");
  ExpectTypeError(One(arrow::int64()), R"({"a": -1e19})",
                  "field 'a': expected integer within int64 range, got number -1e19");
}

// The message reader turns Python's bare NaN / Infinity / -Infinity into these strings.
TEST(RecordBatchBuilderTest, NumberColumnsReadNonFiniteStringsAsIeeeValues) {
  auto batch = Build(One(arrow::float64()),
                     {R"({"a": "NaN"})", R"({"a": "Infinity"})", R"({"a": "-Infinity"})"});
  const auto& values = static_cast<const arrow::DoubleArray&>(*batch->column(0));
  EXPECT_TRUE(std::isnan(values.Value(0)));
  EXPECT_EQ(values.Value(1), std::numeric_limits<double>::infinity());
  EXPECT_EQ(values.Value(2), -std::numeric_limits<double>::infinity());
  ExpectTypeError(One(arrow::int64()), R"({"a": "NaN"})",
                  "field 'a': expected integer, got string \"NaN\"");
}

TEST(RecordBatchBuilderTest, NumberGivenStringIsATypeError) {
  ExpectTypeError(One(arrow::float64()), R"({"a": "12,50"})",
                  "field 'a': expected number, got string \"12,50\"");
}

TEST(RecordBatchBuilderTest, DecimalThatDoesNotFitPrecisionIsATypeError) {
  ExpectTypeError(One(arrow::decimal128(5, 2)), R"({"a": 1234.5})",
                  "field 'a': expected decimal(5, 2), got number 1234.5");
}

// Arrow's FromString wraps more than 38 digits around: 2^128 + 12345 read as 12345.00 and
// 10^400 - 1 as -1.00 before this was checked.
TEST(RecordBatchBuilderTest, DecimalOfMoreThan38DigitsIsATypeErrorNotAWrap) {
  ExpectTypeError(One(arrow::decimal128(38, 2)),
                  R"({"a": 340282366920938463463374607431768223801})",
                  "field 'a': expected decimal(38, 2), got number "
                  "340282366920938463463374607431768223801");
  const std::string nines(400, '9');
  auto status = FirstError(One(arrow::decimal128(38, 2)), {"{\"a\": " + nines + "}"});
  EXPECT_TRUE(status.IsTypeError()) << status.ToString();
}

TEST(RecordBatchBuilderTest, DecimalThatNeedsRoundingIsATypeError) {
  ExpectTypeError(One(arrow::decimal128(5, 2)), R"({"a": 1.005})",
                  "field 'a': expected decimal(5, 2), got number 1.005");
}

// Found in review while writing fuzz/record_batch_builder_fuzzer.cc: more than 38 fraction
// digits beyond the column's scale reached Arrow's Rescale(), which then reads past its
// table of powers of ten (no sanitizer sees it: Arrow is not instrumented).
TEST(RecordBatchBuilderTest, DecimalWithFarMoreFractionDigitsFitsOnlyWhenZero) {
  ExpectTypeError(One(arrow::decimal128(20, 4)), R"({"a": 1e-60})",
                  "field 'a': expected decimal(20, 4), got number 1e-60");
  auto batch = Build(One(arrow::decimal128(20, 4)), {R"({"a": 0e-60})", R"({"a": "-0E-45"})"});
  ExpectColumn(*batch, 0, R"(["0.0000", "0.0000"])");
}

TEST(RecordBatchBuilderTest, DecimalGivenBooleanIsATypeError) {
  ExpectTypeError(One(arrow::decimal128(5, 2)), R"({"a": true})",
                  "field 'a': expected decimal(5, 2), got boolean true");
}

TEST(RecordBatchBuilderTest, BooleanGivenStringOrNumberIsATypeError) {
  ExpectTypeError(One(arrow::boolean()), R"({"a": "true"})",
                  "field 'a': expected boolean, got string \"true\"");
  ExpectTypeError(One(arrow::boolean()), R"({"a": 1})",
                  "field 'a': expected boolean, got number 1");
}

TEST(RecordBatchBuilderTest, StringGivenNumberOrObjectIsATypeError) {
  ExpectTypeError(One(arrow::utf8()), R"({"a": 42})", "field 'a': expected string, got number 42");
  ExpectTypeError(One(arrow::utf8()), R"({"a": {"b": [1, 2]} })",
                  "field 'a': expected string, got object {\"b\": [1, 2]}");
}

TEST(RecordBatchBuilderTest, TimestampGivenBadTextOrNumberIsATypeError) {
  ExpectTypeError(One(kTimestamp), R"({"a": "yesterday"})",
                  "field 'a': expected date-time string, got string \"yesterday\"");
  ExpectTypeError(One(kTimestamp), R"({"a": 1704067200})",
                  "field 'a': expected date-time string, got number 1704067200");
}

TEST(RecordBatchBuilderTest, DateGivenImpossibleDateIsATypeError) {
  ExpectTypeError(One(arrow::date32()), R"({"a": "2024-02-30"})",
                  "field 'a': expected date string, got string \"2024-02-30\"");
  ExpectTypeError(One(arrow::date32()), R"({"a": "2024-01-01T10:00:00Z"})",
                  "field 'a': expected date string, got string \"2024-01-01T10:00:00Z\"");
}

TEST(RecordBatchBuilderTest, TimeGivenBadHourIsATypeError) {
  ExpectTypeError(One(arrow::time64(arrow::TimeUnit::MICRO)), R"({"a": "25:00"})",
                  "field 'a': expected time string, got string \"25:00\"");
}

TEST(RecordBatchBuilderTest, StructGivenArrayIsATypeError) {
  ExpectTypeError(One(arrow::struct_({field("x", arrow::int64())})), R"({"a": [1, 2]})",
                  "field 'a': expected object, got array [1, 2]");
}

TEST(RecordBatchBuilderTest, ListGivenStringIsATypeError) {
  ExpectTypeError(One(arrow::list(arrow::int64())), R"({"a": "1,2"})",
                  "field 'a': expected array, got string \"1,2\"");
}

TEST(RecordBatchBuilderTest, ListItemErrorNamesItemPath) {
  auto line = arrow::struct_({field("sku", arrow::utf8())});
  ExpectTypeError(One(arrow::list(arrow::int64())), R"({"a": [1, "x"]})",
                  "field 'a[]': expected integer, got string \"x\"");
  ExpectTypeError(One(arrow::list(line)), R"({"a": [{"sku": "k"}, {"sku": 5}]})",
                  "field 'a[].sku': expected string, got number 5");
}

TEST(RecordBatchBuilderTest, LongValueIsShortenedInTheMessage) {
  std::string long_text(100, 'x');
  ExpectTypeError(One(arrow::int64()), R"({"a": ")" + long_text + R"("})",
                  "field 'a': expected integer, got string \"" + std::string(79, 'x') + "...");
}

TEST(RecordBatchBuilderTest, NullInRequiredFieldIsATypeError) {
  ExpectTypeError(One(arrow::int64(), /*nullable=*/false), R"({"a": null})",
                  "field 'a' is required but null");
}

TEST(RecordBatchBuilderTest, MissingRequiredFieldIsATypeError) {
  auto schema = arrow::schema({field("a", arrow::int64(), false), field("b", arrow::int64())});
  ExpectTypeError(schema, R"({"b": 1})", "field 'a' is required but missing");
}

TEST(RecordBatchBuilderTest, RecordThatIsNotAnObjectIsInvalid) {
  auto status = FirstError(One(arrow::int64()), {"[1, 2]"});
  EXPECT_TRUE(status.IsInvalid()) << status.ToString();
  EXPECT_EQ(status.message(), "record is not a JSON object");
}

TEST(RecordBatchBuilderTest, MalformedRecordIsInvalidJson) {
  auto status = FirstError(One(arrow::int64()), {R"({"a": 1,})"});
  EXPECT_TRUE(status.IsInvalid()) << status.ToString();
  EXPECT_EQ(status.message().rfind("record is not valid JSON: ", 0), 0) << status.message();
}

TEST(RecordBatchBuilderTest, TextAfterTheRecordIsInvalidJson) {
  auto status = FirstError(One(arrow::int64()), {R"({"a": 1} {"a": 2})"});
  EXPECT_EQ(status.message(), "record is not valid JSON: text after the object");
}

TEST(RecordBatchBuilderTest, RepeatedFieldIsInvalid) {
  auto status = FirstError(One(arrow::int64()), {R"({"a": 1, "a": 2})"});
  EXPECT_TRUE(status.IsInvalid()) << status.ToString();
  EXPECT_EQ(status.message(), "field 'a' appears twice in one object");
}

TEST(RecordBatchBuilderTest, BuilderRefusesUseAfterAnError) {
  auto builder = RecordBatchBuilder::Make(One(arrow::int64())).ValueOrDie();
  ASSERT_FALSE(AppendText(*builder, R"({"a": "x"})").ok());
  EXPECT_EQ(AppendText(*builder, R"({"a": 1})").message(),
            "record batch builder used after an error");
  EXPECT_FALSE(builder->Flush().ok());
}

TEST(RecordBatchBuilderTest, MakeRejectsUnsupportedType) {
  auto result = RecordBatchBuilder::Make(
      arrow::schema({field("s", arrow::struct_({field("n", arrow::int32())}))}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "field 's.n': type int32 is not supported for Singer records");
}

// --- OnTypeError::kNull ---------------------------------------------------------------

TEST(RecordBatchBuilderTest, NullPolicyStoresNullForTheBadValueOnly) {
  auto schema = arrow::schema({field("a", arrow::int64()), field("b", arrow::utf8())});
  auto batch =
      Build(schema, {R"({"a": "x", "b": "kept"})", R"({"a": 2, "b": 3})"}, OnTypeError::kNull);
  ExpectColumn(*batch, 0, "[null, 2]");
  ExpectColumn(*batch, 1, R"(["kept", null])");
}

TEST(RecordBatchBuilderTest, NullPolicyNullsTheInnermostBadField) {
  auto customer = arrow::struct_({field("zip", arrow::int64()), field("name", arrow::utf8())});
  auto batch =
      Build(One(customer), {R"({"a": {"zip": "abc", "name": "Ann"}})"}, OnTypeError::kNull);
  ExpectColumn(*batch, 0, R"([{"zip": null, "name": "Ann"}])");
}

TEST(RecordBatchBuilderTest, NullPolicyNullsBadListItemsAndSkipsTheirValue) {
  auto schema = arrow::schema(
      {field("a", arrow::list(field("item", arrow::int64()))), field("b", arrow::int64())});
  auto batch =
      Build(schema, {R"({"a": [1, "x", {"deep": [1, {"z": 2}]}, 4], "b": 5})"}, OnTypeError::kNull);
  ExpectColumn(*batch, 0, "[[1, null, null, 4]]");
  ExpectColumn(*batch, 1, "[5]");
}

TEST(RecordBatchBuilderTest, NullPolicyNullsStructGivenAScalar) {
  auto schema = arrow::schema(
      {field("a", arrow::struct_({field("x", arrow::int64())})), field("b", arrow::int64())});
  auto batch =
      Build(schema, {R"({"a": "flat", "b": 1})", R"({"a": {"x": 2}, "b": 3})"}, OnTypeError::kNull);
  ExpectColumn(*batch, 0, R"([null, {"x": 2}])");
  ExpectColumn(*batch, 1, "[1, 3]");
}

TEST(RecordBatchBuilderTest, NullPolicyStillFailsForNonNullableField) {
  auto status =
      FirstError(One(arrow::int64(), /*nullable=*/false), {R"({"a": "x"})"}, OnTypeError::kNull);
  EXPECT_EQ(status.message(), "field 'a': expected integer, got string \"x\"");
}

// --- OnTypeError::kString -------------------------------------------------------------

/// Appends every record under kString, flushing, and returns the one batch.
std::shared_ptr<arrow::RecordBatch> BuildAsText(RecordBatchBuilder& builder,
                                                const std::vector<std::string>& records) {
  for (const auto& record : records) {
    auto status = AppendText(builder, record);
    EXPECT_OK(status);
  }
  auto batch = builder.Flush().ValueOrDie();
  auto valid = batch->ValidateFull();
  EXPECT_OK(valid);
  EXPECT_TRUE(batch->schema()->Equals(*builder.schema(), /*check_metadata=*/true));
  return batch;
}

TEST(RecordBatchBuilderTest, StringPolicyTurnsTheColumnToTextAndRereadsEarlierRows) {
  auto schema = arrow::schema({field("a", arrow::int64()), field("b", arrow::utf8())});
  auto builder = RecordBatchBuilder::Make(schema, OnTypeError::kString).ValueOrDie();
  auto batch = BuildAsText(
      *builder, {R"({"a": 1, "b": "x", "extra": 0})", R"({"a": "12,50", "b": "y"})",
                 R"({"a": 2.5, "b": "z"})", R"({"a": {"k": [1]}, "b": null})", R"({"a": null})"});
  EXPECT_EQ(batch->schema()->field(0)->type()->id(), arrow::Type::STRING);
  EXPECT_EQ(batch->schema()->field(0)->metadata()->Get(kJsonMetadataKey).ValueOrDie(), "text");
  EXPECT_TRUE(batch->schema()->field(1)->Equals(*schema->field(1), /*check_metadata=*/true));
  ExpectColumn(*batch, 0, R"(["1", "12,50", "2.5", "{\"k\": [1]}", null])");
  ExpectColumn(*batch, 1, R"(["x", "y", "z", null, null])");
  EXPECT_EQ(builder->last_text_fallback(), "field 'a': expected integer, got string \"12,50\"");
  EXPECT_EQ(builder->ignored_fields(), 1);  // the re-read row is not counted twice
  EXPECT_EQ(builder->dropped_fields().at("extra").count, 1);
}

TEST(RecordBatchBuilderTest, StringPolicyCountsTheRecordThatFellBackOnce) {
  auto schema = arrow::schema({field("a", arrow::int64()), field("b", arrow::int64())});
  auto builder = RecordBatchBuilder::Make(schema, OnTypeError::kString).ValueOrDie();
  // "x" is dropped before "a" fails, then the record is read again as text.
  BuildAsText(*builder, {R"({"x": 1, "a": 1, "b": 1})", R"({"x": 2, "b": 2, "a": "s", "y": 0})"});
  EXPECT_EQ(builder->dropped_fields().at("x").count, 2);
  EXPECT_EQ(builder->dropped_fields().at("y").count, 1);
}

TEST(RecordBatchBuilderTest, StringPolicyKeepsTheSchemaWhileValuesFit) {
  auto schema = arrow::schema({field("a", arrow::int64())});
  auto builder = RecordBatchBuilder::Make(schema, OnTypeError::kString).ValueOrDie();
  auto batch = BuildAsText(*builder, {R"({"a": 1})", R"({"a": 2})"});
  EXPECT_EQ(builder->schema(), schema);
  ExpectColumn(*batch, 0, "[1, 2]");
  EXPECT_EQ(builder->last_text_fallback(), "");
}

TEST(RecordBatchBuilderTest, StringPolicyTurnsTheWholeTopLevelColumnOfANestedValue) {
  auto customer = arrow::struct_({field("zip", arrow::int64()), field("name", arrow::utf8())});
  auto schema = arrow::schema({field("c", customer), field("n", arrow::int64())});
  auto builder = RecordBatchBuilder::Make(schema, OnTypeError::kString).ValueOrDie();
  auto batch = BuildAsText(*builder, {R"({"c": {"zip": 1, "name": "A"}, "n": 1})",
                                      R"({"c": {"zip": "x1"}, "n": "two"})"});
  // Two rounds: "c" on the nested zip, then "n" on the same record.
  EXPECT_EQ(batch->schema()->field(0)->type()->id(), arrow::Type::STRING);
  EXPECT_EQ(batch->schema()->field(1)->type()->id(), arrow::Type::STRING);
  ExpectColumn(*batch, 0, R"(["{\"zip\": 1, \"name\": \"A\"}", "{\"zip\": \"x1\"}"])");
  ExpectColumn(*batch, 1, R"(["1", "two"])");
  EXPECT_EQ(builder->last_text_fallback(), "field 'n': expected integer, got string \"two\"");
}

TEST(RecordBatchBuilderTest, StringPolicyOnlyKeepsRowsSinceTheLastFlush) {
  auto schema = arrow::schema({field("a", arrow::int64())});
  auto builder = RecordBatchBuilder::Make(schema, OnTypeError::kString).ValueOrDie();
  ASSERT_OK(AppendText(*builder, R"({"a": 1})"));
  auto first = builder->Flush().ValueOrDie();
  ExpectColumn(*first, 0, "[1]");
  auto second = BuildAsText(*builder, {R"({"a": 2})", R"({"a": true})"});
  ExpectColumn(*second, 0, R"(["2", "true"])");
}

TEST(RecordBatchBuilderTest, StringPolicyStillFailsOnMissingRequiredAndBadJson) {
  auto required = One(arrow::int64(), /*nullable=*/false);
  EXPECT_EQ(FirstError(required, {R"({"b": 1})"}, OnTypeError::kString).message(),
            "field 'a' is required but missing");
  EXPECT_EQ(
      FirstError(required, {R"({"a": 1})", R"({"a": "x"})", R"({"a": null})"}, OnTypeError::kString)
          .message(),
      "field 'a' is required but null");
  EXPECT_TRUE(
      FirstError(One(arrow::int64()), {R"({"a": "x", )"}, OnTypeError::kString).IsInvalid());
}

}  // namespace
}  // namespace lakepipe::singer
