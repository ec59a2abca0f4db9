#pragma once

#include <memory>
#include <string>

#include <arrow/result.h>
#include <arrow/type_fwd.h>
#include <nlohmann/json_fwd.hpp>

namespace lakepipe::singer {

/// Field metadata key marking a utf8 field that holds the JSON text of each value.
inline constexpr char kJsonMetadataKey[] = "lakepipe.json";
/// Value of kJsonMetadataKey on a column turned to text by `on_type_error: string`: strings
/// are kept as they are, any other value as its JSON text.
inline constexpr char kJsonMetadataTextFallback[] = "text";

/// Maps a Singer stream's JSON Schema (the "schema" member of a SCHEMA message) to an Arrow
/// schema whose fields follow the order of "properties" (hence `ordered_json`: a plain
/// nlohmann::json sorts object keys and loses that order):
///   integer → int64; number → float64, or decimal128(p, s) when the schema fixes precision
///   ("multipleOf" 10^-s with "maximum"/"exclusiveMaximum" (or minimum) bounds, or
///   format "singer.decimal" on a number or string with integer "precision"/"scale");
///   p > 38 falls back to float64 (utf8 for a singer.decimal string); boolean → bool;
///   string → utf8; string + format "date-time" → timestamp[us, UTC]; "date" → date32;
///   "time" → time64[us]; object with properties → struct; object without properties →
///   utf8 holding the JSON text (field metadata "lakepipe.json" = "true"); array → list of
///   the "items" type, items named "element" as in Parquet and always nullable
///   (list<utf8> of JSON when items are missing);
///   ["null", T] or anyOf/oneOf with a null branch → nullable T.
///   A type list with several non-null types (e.g. ["string", "integer"]) → utf8 JSON
///   text, except ["integer", "number"] → float64; anyOf/oneOf branches that map to one
///   Arrow type → that type, only string branches (e.g. date-time or plain) → utf8, others
///   → utf8 JSON text. A field not listed in "required" is nullable too. An empty
///   schema ({} or true) → utf8 JSON. A local "$ref" ("#/definitions/x") maps as the schema
///   it points to; a reference met again inside itself (a recursive definition) → utf8 JSON.
/// Errors (Invalid / NotImplemented) name the property path ("customer.address.zip",
/// "tags[]" for list items) and what is unsupported: a schema that is not an object,
/// unknown type names, a $ref that is not local or points to nothing, allOf, tuple
/// "items", a bad singer.decimal precision/scale, nesting deeper than 64 levels.
arrow::Result<std::shared_ptr<arrow::Schema>> JsonSchemaToArrow(
    const nlohmann::ordered_json& schema);

}  // namespace lakepipe::singer
