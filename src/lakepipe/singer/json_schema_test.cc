#include "lakepipe/singer/json_schema.h"
#include "lakepipe/testing/gtest_util.h"

#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lakepipe::singer {
namespace {

arrow::Result<std::shared_ptr<arrow::Schema>> Map(const char* text) {
  return JsonSchemaToArrow(nlohmann::ordered_json::parse(text));
}

/// The schema of a stream with one property `a` of the given JSON Schema.
arrow::Result<std::shared_ptr<arrow::Schema>> MapProperty(const std::string& property,
                                                          bool required = true) {
  std::string text = R"({"type": "object", "properties": {"a": )" + property + "}";
  if (required) text += R"(, "required": ["a"])";
  return Map((text + "}").c_str());
}

std::shared_ptr<arrow::Field> JsonField(const std::string& name, bool nullable) {
  return arrow::field(name, arrow::utf8(), nullable,
                      arrow::key_value_metadata({kJsonMetadataKey}, {"true"}));
}

void ExpectField(const arrow::Result<std::shared_ptr<arrow::Schema>>& result,
                 const std::shared_ptr<arrow::Field>& expected) {
  ASSERT_OK(result);
  const auto& schema = *result;
  ASSERT_EQ(schema->num_fields(), 1);
  EXPECT_TRUE(schema->field(0)->Equals(*expected, /*check_metadata=*/true))
      << schema->field(0)->ToString(true) << "\nexpected\n"
      << expected->ToString(true);
}

void ExpectError(const arrow::Result<std::shared_ptr<arrow::Schema>>& result,
                 const std::string& message) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), message);
}

const auto kTimestamp = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");

TEST(JsonSchemaTest, IntegerMapsToInt64) {
  ExpectField(MapProperty(R"({"type": "integer"})"), arrow::field("a", arrow::int64(), false));
}

TEST(JsonSchemaTest, NumberMapsToFloat64) {
  ExpectField(MapProperty(R"({"type": "number"})"), arrow::field("a", arrow::float64(), false));
}

TEST(JsonSchemaTest, BooleanMapsToBool) {
  ExpectField(MapProperty(R"({"type": "boolean"})"), arrow::field("a", arrow::boolean(), false));
}

TEST(JsonSchemaTest, StringMapsToUtf8) {
  ExpectField(MapProperty(R"({"type": "string"})"), arrow::field("a", arrow::utf8(), false));
}

TEST(JsonSchemaTest, UnknownStringFormatMapsToUtf8) {
  ExpectField(MapProperty(R"({"type": "string", "format": "email"})"),
              arrow::field("a", arrow::utf8(), false));
}

TEST(JsonSchemaTest, DateTimeFormatMapsToTimestampMicrosUtc) {
  ExpectField(MapProperty(R"({"type": "string", "format": "date-time"})"),
              arrow::field("a", kTimestamp, false));
}

TEST(JsonSchemaTest, DateFormatMapsToDate32) {
  ExpectField(MapProperty(R"({"type": "string", "format": "date"})"),
              arrow::field("a", arrow::date32(), false));
}

TEST(JsonSchemaTest, TimeFormatMapsToTime64Micros) {
  ExpectField(MapProperty(R"({"type": "string", "format": "time"})"),
              arrow::field("a", arrow::time64(arrow::TimeUnit::MICRO), false));
}

TEST(JsonSchemaTest, ObjectWithPropertiesMapsToStructWithItsOwnRequired) {
  auto expected = arrow::struct_(
      {arrow::field("zip", arrow::utf8(), false), arrow::field("city", arrow::utf8(), true)});
  ExpectField(MapProperty(R"({"type": "object", "required": ["zip"],
                              "properties": {"zip": {"type": "string"},
                                             "city": {"type": "string"}}})"),
              arrow::field("a", expected, false));
}

TEST(JsonSchemaTest, PropertiesWithoutTypeMapToStruct) {
  ExpectField(MapProperty(R"({"properties": {"x": {"type": "integer"}}})"),
              arrow::field("a", arrow::struct_({arrow::field("x", arrow::int64())}), false));
}

TEST(JsonSchemaTest, ObjectWithoutPropertiesMapsToJsonText) {
  ExpectField(MapProperty(R"({"type": "object"})"), JsonField("a", false));
}

TEST(JsonSchemaTest, ObjectWithEmptyPropertiesMapsToJsonText) {
  ExpectField(MapProperty(R"({"type": "object", "properties": {}})"), JsonField("a", false));
}

// Items are named "element" (the files' own spelling, so the manifest's types match what
// readers see) and nullable even when the schema says otherwise: taps send NULL elements.
TEST(JsonSchemaTest, ArrayMapsToListOfNullableElementsOfItemsType) {
  ExpectField(MapProperty(R"({"type": "array", "items": {"type": "integer"}})"),
              arrow::field("a", arrow::list(arrow::field("element", arrow::int64(), true)), false));
  ExpectField(MapProperty(R"({"type": "array", "items": {"type": ["integer"]}})"),
              arrow::field("a", arrow::list(arrow::field("element", arrow::int64(), true)), false));
}

TEST(JsonSchemaTest, ArrayItemsAreNullableWhenTheirSchemaAllowsNull) {
  ExpectField(MapProperty(R"({"type": "array", "items": {"type": ["null", "string"]}})"),
              arrow::field("a", arrow::list(arrow::field("element", arrow::utf8(), true)), false));
}

TEST(JsonSchemaTest, ArrayWithoutItemsMapsToListOfJsonText) {
  ExpectField(MapProperty(R"({"type": "array"})"),
              arrow::field("a", arrow::list(JsonField("element", true)), false));
}

TEST(JsonSchemaTest, ArrayOfObjectsMapsToListOfStruct) {
  auto line = arrow::struct_(
      {arrow::field("sku", arrow::utf8(), false), arrow::field("qty", arrow::int64(), true)});
  ExpectField(MapProperty(R"({"type": "array", "items": {"type": "object", "required": ["sku"],
                              "properties": {"sku": {"type": "string"},
                                             "qty": {"type": "integer"}}}})"),
              arrow::field("a", arrow::list(arrow::field("element", line, true)), false));
}

TEST(JsonSchemaTest, NullInTypeListMakesFieldNullable) {
  ExpectField(MapProperty(R"({"type": ["null", "integer"]})"),
              arrow::field("a", arrow::int64(), true));
}

TEST(JsonSchemaTest, NullableDateTimeKeepsTimestampType) {
  ExpectField(MapProperty(R"({"type": ["string", "null"], "format": "date-time"})"),
              arrow::field("a", kTimestamp, true));
}

TEST(JsonSchemaTest, OnlyNullTypeMapsToNullableJsonText) {
  ExpectField(MapProperty(R"({"type": "null"})"), JsonField("a", true));
}

TEST(JsonSchemaTest, AnyOfWithNullBranchMakesNullable) {
  ExpectField(MapProperty(R"({"anyOf": [{"type": "string", "format": "date"},
                                        {"type": "null"}]})"),
              arrow::field("a", arrow::date32(), true));
}

TEST(JsonSchemaTest, OneOfWithNullBranchMakesNullable) {
  ExpectField(MapProperty(R"({"oneOf": [{"type": "null"}, {"type": "boolean"}]})"),
              arrow::field("a", arrow::boolean(), true));
}

TEST(JsonSchemaTest, AnyOfWithoutNullBranchIsNotNullable) {
  ExpectField(MapProperty(R"({"anyOf": [{"type": "integer"}]})"),
              arrow::field("a", arrow::int64(), false));
}

TEST(JsonSchemaTest, AnyOfOfStringBranchesMapsToUtf8) {
  ExpectField(MapProperty(R"({"anyOf": [{"type": "string", "format": "date-time"},
                                        {"type": ["null", "string"]}]})"),
              arrow::field("a", arrow::utf8(), true));
}

TEST(JsonSchemaTest, AnyOfOfNumberBranchesMapsToFloat64) {
  ExpectField(MapProperty(R"({"anyOf": [{"type": "integer"}, {"type": "number"}]})"),
              arrow::field("a", arrow::float64(), false));
}

TEST(JsonSchemaTest, AnyOfOfMixedBranchesMapsToJsonText) {
  ExpectField(MapProperty(R"({"anyOf": [{"type": "integer"}, {"type": "array"}]})"),
              JsonField("a", false));
}

TEST(JsonSchemaTest, SeveralNonNullTypesMapToJsonText) {
  ExpectField(MapProperty(R"({"type": ["string", "integer", "null"]})"), JsonField("a", true));
}

TEST(JsonSchemaTest, IntegerOrNumberMapsToFloat64) {
  ExpectField(MapProperty(R"({"type": ["integer", "number"]})"),
              arrow::field("a", arrow::float64(), false));
}

TEST(JsonSchemaTest, FieldNotInRequiredIsNullable) {
  ExpectField(MapProperty(R"({"type": "integer"})", /*required=*/false),
              arrow::field("a", arrow::int64(), true));
}

TEST(JsonSchemaTest, EmptySchemaMapsToNullableJsonText) {
  ExpectField(MapProperty("{}"), JsonField("a", true));
}

TEST(JsonSchemaTest, TrueSchemaMapsToNullableJsonText) {
  ExpectField(MapProperty("true"), JsonField("a", true));
}

TEST(JsonSchemaTest, FieldsFollowPropertiesOrder) {
  auto result = Map(R"({"properties": {"zeta": {"type": "integer"}, "alpha": {"type": "string"},
                                       "mid": {"type": "boolean"}}})");
  ASSERT_OK(result);
  EXPECT_EQ((*result)->field_names(), (std::vector<std::string>{"zeta", "alpha", "mid"}));
}

TEST(JsonSchemaTest, MultipleOfWithDraft4ExclusiveBoundsMapsToDecimal) {
  // What tap-postgres writes for numeric(10, 2).
  ExpectField(MapProperty(R"({"type": ["null", "number"], "multipleOf": 0.01,
                              "maximum": 100000000, "exclusiveMaximum": true,
                              "minimum": -100000000, "exclusiveMinimum": true})"),
              arrow::field("a", arrow::decimal128(10, 2), true));
}

TEST(JsonSchemaTest, MultipleOfWithNumericExclusiveMaximumMapsToDecimal) {
  ExpectField(MapProperty(R"({"type": "number", "multipleOf": 0.001,
                              "exclusiveMaximum": 1000})"),
              arrow::field("a", arrow::decimal128(6, 3), false));
}

TEST(JsonSchemaTest, MultipleOfWithInclusiveMaximumMapsToDecimal) {
  ExpectField(MapProperty(R"({"type": "number", "multipleOf": 0.01, "maximum": 999.99})"),
              arrow::field("a", arrow::decimal128(5, 2), false));
}

TEST(JsonSchemaTest, MultipleOfOneMapsToDecimalWithScaleZero) {
  ExpectField(MapProperty(R"({"type": "number", "multipleOf": 1, "maximum": 1e18,
                              "exclusiveMaximum": true})"),
              arrow::field("a", arrow::decimal128(18, 0), false));
}

TEST(JsonSchemaTest, MultipleOfWithoutBoundsMapsToFloat64) {
  ExpectField(MapProperty(R"({"type": "number", "multipleOf": 0.01})"),
              arrow::field("a", arrow::float64(), false));
}

TEST(JsonSchemaTest, MultipleOfNotAPowerOfTenMapsToFloat64) {
  ExpectField(MapProperty(R"({"type": "number", "multipleOf": 0.5, "maximum": 100})"),
              arrow::field("a", arrow::float64(), false));
}

TEST(JsonSchemaTest, DecimalWiderThan38DigitsFallsBackToFloat64) {
  ExpectField(MapProperty(R"({"type": "number", "multipleOf": 1e-10, "maximum": 1e30,
                              "exclusiveMaximum": true})"),
              arrow::field("a", arrow::float64(), false));
}

TEST(JsonSchemaTest, SingerDecimalNumberWithPrecisionAndScaleMapsToDecimal) {
  ExpectField(MapProperty(R"({"type": "number", "format": "singer.decimal",
                              "precision": 12, "scale": 4})"),
              arrow::field("a", arrow::decimal128(12, 4), false));
}

TEST(JsonSchemaTest, SingerDecimalStringWithPrecisionAndScaleMapsToDecimal) {
  ExpectField(MapProperty(R"({"type": ["null", "string"], "format": "singer.decimal",
                              "precision": 38, "scale": 9})"),
              arrow::field("a", arrow::decimal128(38, 9), true));
}

TEST(JsonSchemaTest, SingerDecimalStringWithoutPrecisionStaysUtf8) {
  ExpectField(MapProperty(R"({"type": "string", "format": "singer.decimal"})"),
              arrow::field("a", arrow::utf8(), false));
}

TEST(JsonSchemaTest, EmptyPropertiesGiveEmptySchema) {
  auto result = Map(R"({"type": "object", "properties": {}})");
  ASSERT_OK(result);
  EXPECT_EQ((*result)->num_fields(), 0);
}

TEST(JsonSchemaTest, UnknownTypeErrorNamesNestedPath) {
  ExpectError(MapProperty(R"({"type": "object", "properties": {"address": {"type": "object",
                              "properties": {"zip": {"type": "strng"}}}}})"),
              "property 'a.address.zip': unknown type \"strng\"");
}

TEST(JsonSchemaTest, ErrorInListItemsNamesItemPath) {
  ExpectError(MapProperty(R"({"type": "array", "items": {"type": "float"}})"),
              "property 'a[]': unknown type \"float\"");
}

TEST(JsonSchemaTest, LocalRefMapsAsTheSchemaItPointsTo) {
  auto schema = Map(R"({"type": "object",
      "definitions": {"zip": {"type": ["null", "string"]},
                      "address": {"type": "object", "properties": {"zip": {"$ref": "#/definitions/zip"}}}},
      "$defs": {"n": {"type": "integer"}},
      "properties": {"home": {"$ref": "#/definitions/address"}, "n": {"$ref": "#/$defs/n"}}})");
  ASSERT_OK(schema);
  EXPECT_EQ((*schema)->ToString(), "home: struct<zip: string>\nn: int64");
}

// pipelinewise-tap-postgres describes every array column this way.
TEST(JsonSchemaTest, RecursiveRefMapsToJsonText) {
  auto schema = Map(R"({"type": "object",
      "definitions": {"sdc_recursive_integer_array": {"type": ["null", "integer", "array"],
          "items": {"$ref": "#/definitions/sdc_recursive_integer_array"}}},
      "properties": {"ids": {"type": ["null", "array"],
          "items": {"$ref": "#/definitions/sdc_recursive_integer_array"}}}})");
  ASSERT_OK(schema);
  EXPECT_TRUE((*schema)->field(0)->Equals(
      *arrow::field("ids", arrow::list(JsonField("element", true)), true), true))
      << (*schema)->field(0)->ToString(true);
}

TEST(JsonSchemaTest, RefThatIsNotLocalOrPointsToNothingIsAnError) {
  ExpectError(MapProperty(R"({"$ref": "#/definitions/address"})"),
              "property 'a': $ref '#/definitions/address' points to nothing");
  ExpectError(MapProperty(R"({"$ref": "http://example.com/s.json"})"),
              "property 'a': $ref 'http://example.com/s.json' is not local to the schema "
              "(only \"#/...\" is)");
  ExpectError(MapProperty(R"({"$ref": 7})"), "property 'a': \"$ref\" must be a string, got 7");
}

TEST(JsonSchemaTest, SchemaNestedTooDeepIsAnError) {
  std::string nested = R"({"type": "integer"})";
  for (int i = 0; i < 4000; ++i) nested = R"({"type": "array", "items": )" + nested + "}";
  auto result = MapProperty(nested);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("schema nested deeper than 64 levels"),
            std::string::npos);
  // Self-references that are not recursive in effect still end: a chain of refs.
  std::string defs;
  for (int i = 0; i < 100; ++i) {
    defs += fmt::format(R"("d{}": {{"$ref": "#/definitions/d{}"}},)", i, i + 1);
  }
  defs += R"("d100": {"type": "integer"})";
  auto chain = Map(("{\"type\": \"object\", \"definitions\": {" + defs +
                    "}, \"properties\": {\"a\": {\"$ref\": \"#/definitions/d0\"}}}")
                       .c_str());
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.status().message().find("deeper than 64"), std::string::npos);
}

TEST(JsonSchemaTest, AllOfIsNotSupported) {
  ExpectError(MapProperty(R"({"allOf": [{"type": "string"}]})"),
              "property 'a': allOf is not supported");
}

TEST(JsonSchemaTest, TupleItemsAreNotSupported) {
  ExpectError(MapProperty(R"({"type": "array", "items": [{"type": "string"}]})"),
              "property 'a': tuple \"items\" (an array of schemas) are not supported");
}

TEST(JsonSchemaTest, PropertySchemaMustBeAnObject) {
  ExpectError(MapProperty("5"), "property 'a': schema must be an object, got 5");
}

TEST(JsonSchemaTest, TypeMustBeAStringOrArray) {
  ExpectError(MapProperty(R"({"type": 7})"),
              "property 'a': \"type\" must be a string or an array, got 7");
}

TEST(JsonSchemaTest, InvalidSingerDecimalScaleIsAnError) {
  ExpectError(MapProperty(R"({"type": "string", "format": "singer.decimal",
                              "precision": 5, "scale": 7})"),
              "property 'a': singer.decimal precision 5 and scale 7 are invalid "
              "(need 0 <= scale <= precision)");
}

TEST(JsonSchemaTest, StreamSchemaWithoutPropertiesIsAnError) {
  ExpectError(Map(R"({"type": "object"})"), "stream schema has no \"properties\" object");
}

TEST(JsonSchemaTest, StreamSchemaOfAnotherTypeIsAnError) {
  ExpectError(Map(R"({"type": "array", "properties": {}})"),
              "stream schema must have type \"object\", got \"array\"");
}

TEST(JsonSchemaTest, StreamSchemaMustBeAnObject) {
  ExpectError(Map(R"([1, 2])"), "stream schema must be an object, got [1,2]");
}

}  // namespace
}  // namespace lakepipe::singer
