#include "lakepipe/singer/column_appender_internal.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include <arrow/array/builder_binary.h>
#include <arrow/array/builder_decimal.h>
#include <arrow/array/builder_nested.h>
#include <arrow/array/builder_primitive.h>
#include <arrow/type.h>
#include <arrow/util/decimal.h>
#include <arrow/util/key_value_metadata.h>
#include <fmt/format.h>

#include "lakepipe/singer/json_schema.h"

namespace lakepipe::singer::internal {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::number_type;
using simdjson::ondemand::value;

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000 * 1000;

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

/// At most 80 bytes of `text`, cut on a UTF-8 boundary, with "..." when cut.
std::string Shorten(std::string_view text) {
  constexpr size_t kMax = 80;
  if (text.size() <= kMax) return std::string(text);
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

const char* KindName(json_type type) {
  switch (type) {
    case json_type::array:
      return "array";
    case json_type::object:
      return "object";
    case json_type::number:
      return "number";
    case json_type::string:
      return "string";
    case json_type::boolean:
      return "boolean";
    case json_type::null:
      return "null";
  }
  return "value";
}

/// The JSON text of `v` as written; consumes objects and arrays.
simdjson::simdjson_result<std::string_view> RawJson(value& v, json_type type) {
  if (type == json_type::object) {
    simdjson::ondemand::object object;
    if (auto error = v.get_object().get(object)) return error;
    return object.raw_json();
  }
  if (type == json_type::array) {
    simdjson::ondemand::array array;
    if (auto error = v.get_array().get(array)) return error;
    return array.raw_json();
  }
  return v.raw_json_token();
}

/// "string \"abc\"", "number 3.5", "object {...}".
std::string Describe(value& v, json_type type) {
  std::string_view text;
  if (RawJson(v, type).get(text)) return KindName(type);
  return std::string(KindName(type)) + " " + Shorten(TrimRight(text));
}

/// Arrow's ISO-8601 parser, retried with a lowercase 't'/'z' made uppercase and fraction
/// digits beyond what `unit` holds dropped (RFC 3339 allows both).
bool ParseTimestamp(const arrow::TimestampParser& parser, std::string_view text,
                    arrow::TimeUnit::type unit, int64_t* out) {
  if (parser(text.data(), text.size(), unit, out)) return true;
  char buffer[64];
  if (text.size() > sizeof(buffer)) return false;
  const int max_digits = unit == arrow::TimeUnit::SECOND  ? 0
                         : unit == arrow::TimeUnit::MILLI ? 3
                         : unit == arrow::TimeUnit::MICRO ? 6
                                                          : 9;
  size_t length = 0;
  int digits = -1;  // fraction digits seen; -1 outside the fraction
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 10 && c == 't') c = 'T';
    if (i + 1 == text.size() && c == 'z') c = 'Z';
    if (digits >= 0 && c >= '0' && c <= '9') {
      if (digits++ < max_digits) buffer[length++] = c;
      continue;
    }
    digits = (i == 19 && c == '.') ? 0 : -1;
    if (digits == 0 && max_digits == 0) continue;  // no fraction at all for seconds
    buffer[length++] = c;
  }
  return parser(buffer, length, unit, out);
}

// --- scalar appenders ---------------------------------------------------------------

template <typename Builder>
class TypedAppender : public ColumnAppender {
 protected:
  TypedAppender(std::string path, bool nullable, int64_t width, AppendContext* context,
                std::shared_ptr<Builder> builder)
      : ColumnAppender(std::move(path), nullable, width, context, builder), typed_(builder.get()) {}

  Builder* const typed_;
};

class Int64Appender : public TypedAppender<arrow::Int64Builder> {
 public:
  Int64Appender(std::string path, bool nullable, AppendContext* context)
      : TypedAppender(std::move(path), nullable, 8, context,
                      std::make_shared<arrow::Int64Builder>()) {}

 protected:
  arrow::Status AppendValue(value& v, json_type type) override {
    if (type != json_type::number) return Reject("integer", v, type);
    number_type kind;
    if (auto error = v.get_number_type().get(kind)) return JsonError(path_, error);
    int64_t out = 0;
    if (kind == number_type::floating_point_number) {
      double number;
      if (auto error = v.get_double().get(number)) return JsonError(path_, error);
      if (number != std::trunc(number)) return Reject("integer", v, type);
      if (!(number >= -0x1p63 && number < 0x1p63)) {
        return Reject("integer within int64 range", v, type);
      }
      out = static_cast<int64_t>(number);
    } else if (kind != number_type::signed_integer || v.get_int64().get(out)) {
      return Reject("integer within int64 range", v, type);
    }
    CountBytes(width_);
    return typed_->Append(out);
  }
};

class Float64Appender : public TypedAppender<arrow::DoubleBuilder> {
 public:
  Float64Appender(std::string path, bool nullable, AppendContext* context)
      : TypedAppender(std::move(path), nullable, 8, context,
                      std::make_shared<arrow::DoubleBuilder>()) {}

 protected:
  arrow::Status AppendValue(value& v, json_type type) override {
    if (type == json_type::string) return AppendNonFinite(v, type);
    if (type != json_type::number) return Reject("number", v, type);
    double out;
    if (auto error = v.get_double().get(out)) return JsonError(path_, error);
    CountBytes(width_);
    return typed_->Append(out);
  }

 private:
  // The message reader turns Python's bare NaN / Infinity / -Infinity into these strings.
  arrow::Status AppendNonFinite(value& v, json_type type) {
    std::string_view text;
    if (auto error = v.get_string().get(text)) return JsonError(path_, error);
    double out;
    if (text == "NaN") {
      out = std::numeric_limits<double>::quiet_NaN();
    } else if (text == "Infinity") {
      out = std::numeric_limits<double>::infinity();
    } else if (text == "-Infinity") {
      out = -std::numeric_limits<double>::infinity();
    } else {
      return Reject("number", v, type);
    }
    CountBytes(width_);
    return typed_->Append(out);
  }
};

class Decimal128Appender : public TypedAppender<arrow::Decimal128Builder> {
 public:
  Decimal128Appender(std::string path, bool nullable, AppendContext* context,
                     const std::shared_ptr<arrow::DataType>& type)
      : TypedAppender(std::move(path), nullable, 16, context,
                      std::make_shared<arrow::Decimal128Builder>(type)),
        precision_(static_cast<const arrow::Decimal128Type&>(*type).precision()),
        scale_(static_cast<const arrow::Decimal128Type&>(*type).scale()),
        expected_("decimal(" + std::to_string(precision_) + ", " + std::to_string(scale_) + ")") {}

 protected:
  /// A JSON number's own text, or a string holding one; never through a double.
  arrow::Status AppendValue(value& v, json_type type) override {
    std::string_view text;
    if (type == json_type::number) {
      text = TrimRight(v.raw_json_token());
    } else if (type == json_type::string) {
      if (auto error = v.get_string().get(text)) return JsonError(path_, error);
    } else {
      return Reject(expected_, v, type);
    }
    arrow::Decimal128 decimal;
    int32_t precision = 0;
    int32_t scale = 0;
    // FromString wraps values of more than 38 digits around silently (2^128 + 12345 reads
    // as 12345): such a value cannot fit, whatever the column's precision.
    if (!arrow::Decimal128::FromString(text, &decimal, &precision, &scale).ok() ||
        precision > arrow::Decimal128Type::kMaxPrecision) {
      return Reject(expected_, v, type);
    }
    if (scale > scale_ + 38) {
      // Arrow's Rescale() handles at most 38 digits of difference (it indexes a table of
      // powers of ten). With that many more fraction digits only zero fits the column.
      if (decimal != arrow::Decimal128(0)) return Reject(expected_, v, type);
      decimal = arrow::Decimal128(0);
    } else if (scale != scale_) {
      auto rescaled = decimal.Rescale(scale, scale_);
      if (!rescaled.ok()) return Reject(expected_, v, type);
      decimal = *rescaled;
    }
    if (!decimal.FitsInPrecision(precision_)) return Reject(expected_, v, type);
    CountBytes(width_);
    return typed_->Append(decimal);
  }

 private:
  const int32_t precision_;
  const int32_t scale_;
  const std::string expected_;
};

class BooleanAppender : public TypedAppender<arrow::BooleanBuilder> {
 public:
  BooleanAppender(std::string path, bool nullable, AppendContext* context)
      : TypedAppender(std::move(path), nullable, 1, context,
                      std::make_shared<arrow::BooleanBuilder>()) {}

 protected:
  arrow::Status AppendValue(value& v, json_type type) override {
    if (type != json_type::boolean) return Reject("boolean", v, type);
    bool out;
    if (auto error = v.get_bool().get(out)) return JsonError(path_, error);
    CountBytes(width_);
    return typed_->Append(out);
  }
};

/// What a utf8 column accepts, from its field metadata (kJsonMetadataKey).
enum class TextMode {
  kStrings,       ///< JSON strings only
  kJsonText,      ///< any value, as its JSON text ("true")
  kTextFallback,  ///< strings as they are, any other value as its JSON text ("text")
};

TextMode TextModeOf(const arrow::Field& field) {
  const auto& metadata = field.metadata();
  if (!metadata) return TextMode::kStrings;
  auto flag = metadata->Get(kJsonMetadataKey);
  if (!flag.ok()) return TextMode::kStrings;
  if (*flag == "true") return TextMode::kJsonText;
  if (*flag == kJsonMetadataTextFallback) return TextMode::kTextFallback;
  return TextMode::kStrings;
}

class StringAppender : public TypedAppender<arrow::StringBuilder> {
 public:
  StringAppender(std::string path, bool nullable, AppendContext* context, TextMode mode)
      : TypedAppender(std::move(path), nullable, 4, context,
                      std::make_shared<arrow::StringBuilder>()),
        mode_(mode) {}

 protected:
  arrow::Status AppendValue(value& v, json_type type) override {
    std::string_view text;
    if (type == json_type::string && mode_ != TextMode::kJsonText) {
      if (auto error = v.get_string().get(text)) return JsonError(path_, error);
    } else if (mode_ == TextMode::kStrings) {
      return Reject("string", v, type);
    } else {
      if (auto error = RawJson(v, type).get(text)) return JsonError(path_, error);
      text = TrimRight(text);
    }
    CountBytes(width_ + static_cast<int64_t>(text.size()));
    return typed_->Append(text);
  }

 private:
  const TextMode mode_;
};

/// timestamp, date32 and time64 from ISO-8601 strings.
template <typename Builder>
class TemporalAppender : public TypedAppender<Builder> {
 public:
  TemporalAppender(std::string path, bool nullable, AppendContext* context,
                   const std::shared_ptr<arrow::DataType>& type)
      : TypedAppender<Builder>(std::move(path), nullable, Width(*type), context,
                               std::make_shared<Builder>(type, arrow::default_memory_pool())),
        type_(type) {}

 protected:
  arrow::Status AppendValue(value& v, json_type type) override {
    if (type != json_type::string) return this->Reject(Expected(), v, type);
    std::string_view text;
    if (auto error = v.get_string().get(text)) return JsonError(this->path_, error);
    int64_t out;
    if (!Convert(text, &out)) return this->Reject(Expected(), v, type);
    this->CountBytes(this->width_);
    return this->typed_->Append(static_cast<typename Builder::value_type>(out));
  }

 private:
  static int64_t Width(const arrow::DataType& type) {
    return type.id() == arrow::Type::DATE32 ? 4 : 8;
  }

  const char* Expected() const {
    switch (type_->id()) {
      case arrow::Type::DATE32:
        return "date string";
      case arrow::Type::TIME64:
        return "time string";
      default:
        return "date-time string";
    }
  }

  bool Convert(std::string_view text, int64_t* out) const {
    const auto& parser = *this->context_->timestamp_parser;
    if (type_->id() == arrow::Type::DATE32) {
      if (!ParseTimestamp(parser, text, arrow::TimeUnit::MICRO, out)) return false;
      if (*out % kMicrosPerDay != 0) return false;
      *out /= kMicrosPerDay;
      return true;
    }
    const arrow::TimeUnit::type unit =
        type_->id() == arrow::Type::TIME64
            ? static_cast<const arrow::Time64Type&>(*type_).unit()
            : static_cast<const arrow::TimestampType&>(*type_).unit();
    if (type_->id() != arrow::Type::TIME64) return ParseTimestamp(parser, text, unit, out);
    // A time of day is parsed as that time on 1970-01-01, then wrapped into one day.
    if (text.size() > 40 || text.size() < 5) return false;
    std::string stamped = "1970-01-01T";
    stamped.append(text);
    if (!ParseTimestamp(parser, stamped, unit, out)) return false;
    const int64_t day = unit == arrow::TimeUnit::NANO ? kMicrosPerDay * 1000 : kMicrosPerDay;
    *out = ((*out % day) + day) % day;
    return true;
  }

  const std::shared_ptr<arrow::DataType> type_;
};

// --- nested appenders ---------------------------------------------------------------

class StructAppender : public TypedAppender<arrow::StructBuilder> {
 public:
  StructAppender(std::string path, bool nullable, AppendContext* context,
                 const std::shared_ptr<arrow::DataType>& type, FieldSet fields)
      : TypedAppender(std::move(path), nullable, 1, context, MakeBuilder(type, fields)),
        fields_(std::move(fields)) {}

 protected:
  arrow::Status AppendValue(value& v, json_type type) override {
    if (type != json_type::object) return Reject("object", v, type);
    simdjson::ondemand::object object;
    if (auto error = v.get_object().get(object)) return JsonError(path_, error);
    CountBytes(width_);
    ARROW_RETURN_NOT_OK(typed_->Append());
    return fields_.AppendObject(object);
  }

 private:
  static std::shared_ptr<arrow::StructBuilder> MakeBuilder(
      const std::shared_ptr<arrow::DataType>& type, const FieldSet& fields) {
    std::vector<std::shared_ptr<arrow::ArrayBuilder>> children;
    for (const auto& appender : fields.appenders()) children.push_back(appender->builder());
    return std::make_shared<arrow::StructBuilder>(type, arrow::default_memory_pool(),
                                                  std::move(children));
  }

  FieldSet fields_;
};

class ListAppender : public TypedAppender<arrow::ListBuilder> {
 public:
  ListAppender(std::string path, bool nullable, AppendContext* context,
               const std::shared_ptr<arrow::DataType>& type, std::unique_ptr<ColumnAppender> item)
      : TypedAppender(std::move(path), nullable, 4, context,
                      std::make_shared<arrow::ListBuilder>(arrow::default_memory_pool(),
                                                           item->builder(), type)),
        item_(std::move(item)) {}

 protected:
  arrow::Status AppendValue(value& v, json_type type) override {
    if (type != json_type::array) return Reject("array", v, type);
    simdjson::ondemand::array array;
    if (auto error = v.get_array().get(array)) return JsonError(path_, error);
    CountBytes(width_);
    ARROW_RETURN_NOT_OK(typed_->Append());
    for (auto element : array) {
      value item;
      if (auto error = std::move(element).get(item)) return JsonError(path_, error);
      ARROW_RETURN_NOT_OK(item_->Append(item));
    }
    return arrow::Status::OK();
  }

 private:
  std::unique_ptr<ColumnAppender> item_;
};

}  // namespace

arrow::Status JsonError(const std::string& path, simdjson::error_code error) {
  if (path.empty()) {
    return arrow::Status::Invalid("record is not valid JSON: ", simdjson::error_message(error));
  }
  return arrow::Status::Invalid("invalid JSON in field '", path,
                                "': ", simdjson::error_message(error));
}

// --- ColumnAppender -----------------------------------------------------------------

ColumnAppender::ColumnAppender(std::string path, bool nullable, int64_t width,
                               AppendContext* context, std::shared_ptr<arrow::ArrayBuilder> builder)
    : path_(std::move(path)),
      nullable_(nullable),
      width_(width),
      context_(context),
      builder_(std::move(builder)) {}

arrow::Status ColumnAppender::Append(value v) {
  json_type type;
  if (auto error = v.type().get(type)) return JsonError(path_, error);
  if (type != json_type::null) return AppendValue(v, type);
  bool is_null = false;
  if (auto error = v.is_null().get(is_null)) return JsonError(path_, error);
  if (!is_null) return JsonError(path_, simdjson::N_ATOM_ERROR);
  if (!nullable_) return arrow::Status::TypeError("field '", path_, "' is required but null");
  return AppendNull();
}

arrow::Status ColumnAppender::AppendMissing() {
  if (!nullable_) return arrow::Status::TypeError("field '", path_, "' is required but missing");
  return AppendNull();
}

arrow::Status ColumnAppender::AppendNull() {
  CountBytes(width_);
  return builder_->AppendNull();
}

void AppendContext::Count(FieldCounts* counts, std::string_view path, std::string_view example) {
  if (replaying) return;
  auto it = counts->find(path);
  if (it == counts->end()) {
    it = counts->emplace(std::string(path), FieldCount{0, std::string(example)}).first;
  }
  ++it->second.count;
  counted_in_record.push_back(&it->second.count);
}

void AppendContext::UncountRecord() {
  for (int64_t* count : counted_in_record) --*count;
  counted_in_record.clear();
}

arrow::Status ColumnAppender::Reject(std::string_view expected, value& v, json_type type) {
  if (context_->on_type_error == OnTypeError::kNull && nullable_) {
    // Only the first value of a field is described: later ones just count.
    std::string example;
    if (!context_->nulled.contains(path_)) {
      example = fmt::format("expected {}, got {}", expected, Describe(v, type));
    }
    context_->Count(&context_->nulled, path_, example);
    return AppendNull();
  }
  context_->rejected = true;
  return arrow::Status::TypeError("field '", path_, "': expected ", expected, ", got ",
                                  Describe(v, type));
}

arrow::Result<std::unique_ptr<ColumnAppender>> MakeColumnAppender(const arrow::Field& field,
                                                                  std::string path,
                                                                  AppendContext* context) {
  const auto& type = field.type();
  const bool nullable = field.nullable();
  switch (type->id()) {
    case arrow::Type::INT64:
      return std::make_unique<Int64Appender>(std::move(path), nullable, context);
    case arrow::Type::DOUBLE:
      return std::make_unique<Float64Appender>(std::move(path), nullable, context);
    case arrow::Type::DECIMAL128:
      return std::make_unique<Decimal128Appender>(std::move(path), nullable, context, type);
    case arrow::Type::BOOL:
      return std::make_unique<BooleanAppender>(std::move(path), nullable, context);
    case arrow::Type::STRING:
      return std::make_unique<StringAppender>(std::move(path), nullable, context,
                                              TextModeOf(field));
    case arrow::Type::TIMESTAMP:
      return std::make_unique<TemporalAppender<arrow::TimestampBuilder>>(std::move(path), nullable,
                                                                         context, type);
    case arrow::Type::DATE32:
      return std::make_unique<TemporalAppender<arrow::Date32Builder>>(std::move(path), nullable,
                                                                      context, type);
    case arrow::Type::TIME64:
      return std::make_unique<TemporalAppender<arrow::Time64Builder>>(std::move(path), nullable,
                                                                      context, type);
    case arrow::Type::STRUCT: {
      ARROW_ASSIGN_OR_RAISE(FieldSet fields, FieldSet::Make(type->fields(), path, context));
      return std::make_unique<StructAppender>(std::move(path), nullable, context, type,
                                              std::move(fields));
    }
    case arrow::Type::LIST: {
      ARROW_ASSIGN_OR_RAISE(auto item, MakeColumnAppender(*type->field(0), path + "[]", context));
      return std::make_unique<ListAppender>(std::move(path), nullable, context, type,
                                            std::move(item));
    }
    default:
      return arrow::Status::NotImplemented("field '", path, "': type ", type->ToString(),
                                           " is not supported for Singer records");
  }
}

// --- FieldSet -----------------------------------------------------------------------

arrow::Result<FieldSet> FieldSet::Make(const arrow::FieldVector& fields, const std::string& path,
                                       AppendContext* context) {
  FieldSet set;
  set.path_ = path;
  set.context_ = context;
  for (const auto& field : fields) {
    set.names_.push_back(field->name());
    std::string child_path = path.empty() ? field->name() : path + "." + field->name();
    ARROW_ASSIGN_OR_RAISE(auto appender, MakeColumnAppender(*field, child_path, context));
    set.appenders_.push_back(std::move(appender));
  }
  // names_ is complete, so the views stay valid (a move of the vector keeps its strings).
  for (size_t i = 0; i < set.names_.size(); ++i) {
    if (!set.index_.emplace(set.names_[i], i).second) {
      return arrow::Status::Invalid("field '", path.empty() ? "" : path + ".", set.names_[i],
                                    "' appears twice in the schema");
    }
  }
  set.seen_.assign(set.names_.size(), 0);
  return set;
}

arrow::Status FieldSet::AppendObject(simdjson::ondemand::object object) {
  ++generation_;
  next_guess_ = 0;
  size_t set = 0;
  for (auto member : object) {
    simdjson::ondemand::field field;
    if (auto error = std::move(member).get(field)) return JsonError(path_, error);
    // Keys without escapes (nearly all) are compared as they appear in the text, with no
    // copy; a key with a backslash is unescaped first.
    std::string_view key = field.escaped_key();
    if (key.find('\\') != std::string_view::npos) {
      if (auto error = field.unescaped_key().get(key)) return JsonError(path_, error);
    }
    // Taps write every record's fields in one order: try the field after the last one
    // matched before hashing the key (hashing and comparing keys were ~15% of an ingest's profile).
    size_t i = next_guess_;
    if (i >= names_.size() || names_[i] != key) {
      auto it = index_.find(key);
      if (it == index_.end()) {
        context_->Count(&context_->dropped,
                        path_.empty() ? std::string(key) : path_ + "." + std::string(key));
        continue;
      }
      i = it->second;
    }
    next_guess_ = i + 1;
    if (seen_[i] == generation_) {
      return arrow::Status::Invalid("field '", path_.empty() ? "" : path_ + ".", key,
                                    "' appears twice in one object");
    }
    seen_[i] = generation_;
    ++set;
    arrow::Status status = appenders_[i]->Append(field.value());
    if (!status.ok()) {
      // The record's own columns say which column a rejected value belongs to.
      if (path_.empty() && context_->rejected) context_->rejected_column = static_cast<int>(i);
      return status;
    }
  }
  if (set == appenders_.size()) return arrow::Status::OK();
  for (size_t i = 0; i < appenders_.size(); ++i) {
    if (seen_[i] != generation_) ARROW_RETURN_NOT_OK(appenders_[i]->AppendMissing());
  }
  return arrow::Status::OK();
}

}  // namespace lakepipe::singer::internal
