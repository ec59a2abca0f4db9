#include "lakepipe/singer/json_schema.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <nlohmann/json.hpp>

namespace lakepipe::singer {
namespace {

using Json = nlohmann::ordered_json;

constexpr int32_t kMaxDecimal128Precision = 38;

/// What one JSON Schema maps to, before it becomes a named field.
struct Mapped {
  std::shared_ptr<arrow::DataType> type;
  bool nullable = false;
  bool json_text = false;  ///< utf8 holding the JSON text of each value
  std::string kind;        ///< JSON Schema type it came from ("string", ...); "" for any
};

Mapped JsonText(bool nullable, std::string kind = "") {
  return Mapped{arrow::utf8(), nullable, /*json_text=*/true, std::move(kind)};
}

Mapped Plain(std::shared_ptr<arrow::DataType> type, std::string kind) {
  return Mapped{std::move(type), /*nullable=*/false, /*json_text=*/false, std::move(kind)};
}

std::string Excerpt(const Json& node) {
  std::string text = node.dump();
  if (text.size() > 80) text = text.substr(0, 80) + "...";
  return text;
}

std::string Subject(const std::string& path) {
  return path.empty() ? "stream schema" : "property '" + path + "'";
}

std::shared_ptr<arrow::Field> ToField(const std::string& name, const Mapped& mapped,
                                      bool required) {
  std::shared_ptr<const arrow::KeyValueMetadata> metadata;
  if (mapped.json_text) metadata = arrow::key_value_metadata({kJsonMetadataKey}, {"true"});
  return arrow::field(name, mapped.type, mapped.nullable || !required, std::move(metadata));
}

/// What the recursive mapping carries: the whole schema (for local "$ref"s), the references
/// being expanded on the way down (a reference met again is recursive), and the depth.
struct Context {
  const Json& root;
  std::vector<std::string> expanding;
  int depth = 0;
};

/// Deeper schemas are refused rather than risk the stack (a hostile tap can nest thousands of
/// levels); no real table nests this deep.
constexpr int kMaxSchemaDepth = 64;

arrow::Result<Mapped> MapSchema(Context& ctx, const Json& node, const std::string& path);

// --- numbers ------------------------------------------------------------------------

/// s when `multiple_of` is 10^-s (0 <= s <= 38).
std::optional<int32_t> ScaleOf(double multiple_of) {
  double scaled = multiple_of;
  for (int32_t scale = 0; scale <= kMaxDecimal128Precision; ++scale, scaled *= 10) {
    if (std::fabs(scaled - 1.0) < 1e-9) return scale;
  }
  return std::nullopt;
}

/// Digits left of the point needed below |bound| (exclusive) or up to it (inclusive).
std::optional<int32_t> IntegerDigits(double bound, bool exclusive) {
  bound = std::fabs(bound);
  double power = 1;
  for (int32_t digits = 0; digits <= kMaxDecimal128Precision; ++digits, power *= 10) {
    if (exclusive ? bound <= power * (1 + 1e-12) : bound < power * (1 - 1e-12)) return digits;
  }
  return std::nullopt;
}

/// Integer digits fixed by the bounds; needs an upper bound. Draft 4 writes exclusive bounds
/// as booleans beside maximum/minimum, later drafts as numbers.
std::optional<int32_t> BoundDigits(const Json& node) {
  std::optional<int32_t> digits;
  bool has_upper = false;
  bool unbounded = false;
  auto consider = [&](const char* key, const char* exclusive_key, bool upper) {
    auto bound = node.find(key);
    if (bound != node.end() && bound->is_number()) {
      auto flag = node.find(exclusive_key);
      bool exclusive = flag != node.end() && flag->is_boolean() && flag->get<bool>();
      auto d = IntegerDigits(bound->get<double>(), exclusive);
      unbounded |= !d.has_value();
      digits = std::max(digits.value_or(0), d.value_or(0));
      has_upper |= upper;
    }
    auto exclusive_bound = node.find(exclusive_key);
    if (exclusive_bound != node.end() && exclusive_bound->is_number()) {
      auto d = IntegerDigits(exclusive_bound->get<double>(), /*exclusive=*/true);
      unbounded |= !d.has_value();
      digits = std::max(digits.value_or(0), d.value_or(0));
      has_upper |= upper;
    }
  };
  consider("maximum", "exclusiveMaximum", /*upper=*/true);
  consider("minimum", "exclusiveMinimum", /*upper=*/false);
  if (!has_upper || unbounded) return std::nullopt;
  return digits;
}

/// decimal128(precision, scale), or `fallback` when precision exceeds 38.
arrow::Result<Mapped> SingerDecimal(const Json& node, const std::string& path, Mapped fallback) {
  auto precision = node.find("precision");
  auto scale = node.find("scale");
  if (precision == node.end() || scale == node.end()) return fallback;
  if (!precision->is_number_integer() || !scale->is_number_integer()) {
    return arrow::Status::Invalid(Subject(path),
                                  ": singer.decimal precision and scale must be integers");
  }
  auto p = precision->get<int64_t>();
  auto s = scale->get<int64_t>();
  if (p < 1 || s < 0 || s > p) {
    return arrow::Status::Invalid(Subject(path), ": singer.decimal precision ", p, " and scale ", s,
                                  " are invalid (need 0 <= scale <= precision)");
  }
  if (p > kMaxDecimal128Precision) return fallback;
  return Plain(arrow::decimal128(static_cast<int32_t>(p), static_cast<int32_t>(s)), "number");
}

arrow::Result<Mapped> MapNumber(const Json& node, const std::string& path) {
  Mapped float64 = Plain(arrow::float64(), "number");
  auto format = node.find("format");
  if (format != node.end() && *format == "singer.decimal") {
    return SingerDecimal(node, path, float64);
  }
  auto multiple_of = node.find("multipleOf");
  if (multiple_of == node.end() || !multiple_of->is_number()) return float64;
  auto scale = ScaleOf(multiple_of->get<double>());
  auto digits = BoundDigits(node);
  if (!scale || !digits) return float64;
  int32_t precision = std::max(*digits + *scale, 1);
  if (precision > kMaxDecimal128Precision) return float64;
  return Plain(arrow::decimal128(precision, *scale), "number");
}

// --- strings, objects, arrays -------------------------------------------------------

arrow::Result<Mapped> MapString(const Json& node, const std::string& path) {
  auto format = node.find("format");
  if (format == node.end() || !format->is_string()) return Plain(arrow::utf8(), "string");
  const auto& name = format->get_ref<const std::string&>();
  if (name == "date-time") return Plain(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), "string");
  if (name == "date") return Plain(arrow::date32(), "string");
  if (name == "time") return Plain(arrow::time64(arrow::TimeUnit::MICRO), "string");
  if (name == "singer.decimal") {
    ARROW_ASSIGN_OR_RAISE(Mapped decimal,
                          SingerDecimal(node, path, Plain(arrow::utf8(), "string")));
    decimal.kind = "string";
    return decimal;
  }
  return Plain(arrow::utf8(), "string");
}

/// The fields of an object schema, nullable unless listed in "required".
arrow::Result<arrow::FieldVector> MapProperties(Context& ctx, const Json& node,
                                                const std::string& path) {
  std::set<std::string, std::less<>> required;
  auto names = node.find("required");
  if (names != node.end()) {
    if (!names->is_array()) {
      return arrow::Status::Invalid(Subject(path), ": \"required\" must be an array of names");
    }
    for (const auto& name : *names) {
      if (name.is_string()) required.insert(name.get<std::string>());
    }
  }
  arrow::FieldVector fields;
  for (const auto& [name, child] : node.at("properties").items()) {
    std::string child_path = path.empty() ? name : path + "." + name;
    ARROW_ASSIGN_OR_RAISE(Mapped mapped, MapSchema(ctx, child, child_path));
    fields.push_back(ToField(name, mapped, required.count(name) > 0));
  }
  return fields;
}

arrow::Result<Mapped> MapObject(Context& ctx, const Json& node, const std::string& path) {
  auto properties = node.find("properties");
  if (properties == node.end()) return JsonText(false, "object");
  if (!properties->is_object()) {
    return arrow::Status::Invalid(Subject(path), ": \"properties\" must be an object");
  }
  if (properties->empty()) return JsonText(false, "object");
  ARROW_ASSIGN_OR_RAISE(arrow::FieldVector fields, MapProperties(ctx, node, path));
  return Plain(arrow::struct_(std::move(fields)), "object");
}

arrow::Result<Mapped> MapArray(Context& ctx, const Json& node, const std::string& path) {
  auto items = node.find("items");
  Mapped item = JsonText(/*nullable=*/true);
  if (items != node.end()) {
    if (items->is_array()) {
      return arrow::Status::NotImplemented(
          Subject(path), ": tuple \"items\" (an array of schemas) are not supported");
    }
    ARROW_ASSIGN_OR_RAISE(item, MapSchema(ctx, *items, path + "[]"));
  }
  // Items are nullable whatever the schema says: taps describe a PostgreSQL int[] as
  // items {"type": ["integer"]} and then send '{1,NULL,3}'. Named "element", as Parquet's
  // LIST spelling and so every reader of the files has it.
  return Plain(arrow::list(ToField("element", item, /*required=*/false)), "array");
}

// --- type lists and unions ----------------------------------------------------------

arrow::Result<Mapped> MapNamedType(Context& ctx, const std::string& name, const Json& node,
                                   const std::string& path) {
  if (name == "integer") return Plain(arrow::int64(), "integer");
  if (name == "number") return MapNumber(node, path);
  if (name == "boolean") return Plain(arrow::boolean(), "boolean");
  if (name == "string") return MapString(node, path);
  if (name == "object") return MapObject(ctx, node, path);
  if (name == "array") return MapArray(ctx, node, path);
  return arrow::Status::NotImplemented(Subject(path), ": unknown type \"", name, "\"");
}

arrow::Result<Mapped> MapTypeList(Context& ctx, const Json& types, const Json& node,
                                  const std::string& path) {
  std::vector<std::string> names;
  if (types.is_string()) {
    names.push_back(types.get<std::string>());
  } else if (types.is_array()) {
    for (const auto& type : types) {
      if (!type.is_string()) {
        return arrow::Status::Invalid(Subject(path), ": \"type\" entries must be strings, got ",
                                      Excerpt(types));
      }
      names.push_back(type.get<std::string>());
    }
  } else {
    return arrow::Status::Invalid(Subject(path), ": \"type\" must be a string or an array, got ",
                                  Excerpt(types));
  }
  bool nullable = false;
  std::set<std::string> non_null;
  for (const auto& name : names) {
    if (name == "null") {
      nullable = true;
      continue;
    }
    non_null.insert(name);
  }
  Mapped mapped;
  if (non_null.empty()) {
    mapped = JsonText(true);
  } else if (non_null == std::set<std::string>{"integer", "number"}) {
    ARROW_ASSIGN_OR_RAISE(mapped, MapNumber(node, path));
  } else if (non_null.size() == 1) {
    ARROW_ASSIGN_OR_RAISE(mapped, MapNamedType(ctx, *non_null.begin(), node, path));
  } else {
    // Validates the names and their schemas even though the column holds JSON text.
    for (const auto& name : non_null)
      ARROW_RETURN_NOT_OK(MapNamedType(ctx, name, node, path).status());
    mapped = JsonText(false);
  }
  mapped.nullable = mapped.nullable || nullable;
  return mapped;
}

bool IsNullOnly(const Json& branch) {
  if (!branch.is_object()) return false;
  auto type = branch.find("type");
  if (type == branch.end()) return false;
  return *type == "null" || (type->is_array() && type->size() == 1 && (*type)[0] == "null");
}

/// One Arrow type for several non-null branches (see the header for the rules).
Mapped Merge(const std::vector<Mapped>& branches) {
  if (branches.empty()) return JsonText(true);
  bool same = true;
  bool numbers = true;
  bool strings = true;
  for (const auto& branch : branches) {
    same =
        same && branch.type->Equals(*branches[0].type) && branch.json_text == branches[0].json_text;
    numbers = numbers && (branch.kind == "integer" || branch.kind == "number");
    strings = strings && branch.kind == "string";
  }
  if (same) return branches[0];
  if (numbers) return Plain(arrow::float64(), "number");
  if (strings) return Plain(arrow::utf8(), "string");
  return JsonText(false);
}

arrow::Result<Mapped> MapUnion(Context& ctx, const char* keyword, const Json& branches,
                               const std::string& path) {
  if (!branches.is_array() || branches.empty()) {
    return arrow::Status::Invalid(Subject(path), ": \"", keyword,
                                  "\" must be a non-empty array of schemas");
  }
  bool nullable = false;
  std::vector<Mapped> non_null;
  for (const auto& branch : branches) {
    if (IsNullOnly(branch)) {
      nullable = true;
      continue;
    }
    ARROW_ASSIGN_OR_RAISE(Mapped mapped, MapSchema(ctx, branch, path));
    nullable = nullable || mapped.nullable;
    non_null.push_back(std::move(mapped));
  }
  Mapped merged = Merge(non_null);
  merged.nullable = merged.nullable || nullable;
  return merged;
}

/// The schema a local "$ref" ("#/definitions/x", "#/$defs/x", any JSON pointer into this
/// schema) points to.
arrow::Result<const Json*> Resolve(const Context& ctx, const Json& ref, const std::string& path) {
  if (!ref.is_string()) {
    return arrow::Status::Invalid(Subject(path), ": \"$ref\" must be a string, got ", Excerpt(ref));
  }
  const auto& text = ref.get_ref<const std::string&>();
  if (!text.starts_with("#")) {
    return arrow::Status::NotImplemented(Subject(path), ": $ref '", text,
                                         "' is not local to the schema (only \"#/...\" is)");
  }
  try {
    return &ctx.root.at(Json::json_pointer(text.substr(1)));
  } catch (const nlohmann::json::exception&) {
    return arrow::Status::Invalid(Subject(path), ": $ref '", text, "' points to nothing");
  }
}

arrow::Result<Mapped> MapReference(Context& ctx, const Json& node, const std::string& path) {
  const Json& ref = node.at("$ref");
  const std::string key = ref.is_string() ? ref.get<std::string>() : "";
  // A recursive definition (pipelinewise's sdc_recursive_*_array) has no fixed shape: its
  // values are kept as JSON text.
  if (std::find(ctx.expanding.begin(), ctx.expanding.end(), key) != ctx.expanding.end()) {
    return JsonText(true);
  }
  ARROW_ASSIGN_OR_RAISE(const Json* target, Resolve(ctx, ref, path));
  ctx.expanding.push_back(key);
  auto mapped = MapSchema(ctx, *target, path);
  ctx.expanding.pop_back();
  return mapped;
}

arrow::Result<Mapped> MapSchemaAtDepth(Context& ctx, const Json& node, const std::string& path) {
  if (node.is_boolean()) {
    if (node.get<bool>()) return JsonText(true);
    return arrow::Status::Invalid(Subject(path), ": schema false admits no value");
  }
  if (!node.is_object()) {
    return arrow::Status::Invalid(Subject(path), ": schema must be an object, got ", Excerpt(node));
  }
  if (node.contains("$ref")) return MapReference(ctx, node, path);
  if (node.contains("allOf")) {
    return arrow::Status::NotImplemented(Subject(path), ": allOf is not supported");
  }
  if (auto type = node.find("type"); type != node.end()) return MapTypeList(ctx, *type, node, path);
  for (const char* keyword : {"anyOf", "oneOf"}) {
    if (auto branches = node.find(keyword); branches != node.end()) {
      return MapUnion(ctx, keyword, *branches, path);
    }
  }
  if (node.contains("properties")) return MapObject(ctx, node, path);
  if (node.contains("items")) return MapArray(ctx, node, path);
  return JsonText(true);
}

arrow::Result<Mapped> MapSchema(Context& ctx, const Json& node, const std::string& path) {
  if (ctx.depth >= kMaxSchemaDepth) {
    return arrow::Status::Invalid(Subject(path), ": schema nested deeper than ", kMaxSchemaDepth,
                                  " levels");
  }
  ++ctx.depth;
  auto mapped = MapSchemaAtDepth(ctx, node, path);
  --ctx.depth;
  return mapped;
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::Schema>> JsonSchemaToArrow(const Json& schema) {
  if (!schema.is_object()) {
    return arrow::Status::Invalid("stream schema must be an object, got ", Excerpt(schema));
  }
  if (auto type = schema.find("type"); type != schema.end()) {
    bool object = *type == "object" || (type->is_array() && std::find(type->begin(), type->end(),
                                                                      "object") != type->end());
    if (!object) {
      return arrow::Status::Invalid("stream schema must have type \"object\", got ",
                                    Excerpt(*type));
    }
  }
  auto properties = schema.find("properties");
  if (properties == schema.end() || !properties->is_object()) {
    return arrow::Status::Invalid("stream schema has no \"properties\" object");
  }
  Context ctx{schema, {}, 0};
  ARROW_ASSIGN_OR_RAISE(arrow::FieldVector fields, MapProperties(ctx, schema, ""));
  return arrow::schema(std::move(fields));
}

}  // namespace lakepipe::singer
