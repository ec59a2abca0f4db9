#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <arrow/status.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace lakepipe::common {

/// Typed access to a YAML document whose errors name the file, the line and the key path
/// ("flows/shop.yaml:12: unknown key 'stages[0].taks'"). Shared by the pipeline, flow and
/// storage loaders.
///
/// A key given no value (`delimiter:`, or `~` / `null`, which YAML reads the same) is an
/// error for every typed read ("'source.options.delimiter' is empty: ..."), never the text
/// "null" or "": empty text is written `delimiter: ""`, the word `delimiter: "null"`.
class YamlReader {
 public:
  /// `where` names the document in errors; `text`, when given, is the document, used to put
  /// an error about an empty value on its key's line (yaml-cpp places an empty value at the
  /// token after it, often on the next line).
  explicit YamlReader(std::string where, std::string text = {})
      : where_(std::move(where)), text_(std::move(text)) {}

  arrow::Status Error(const YAML::Node& node, const std::string& what) const {
    const int line = Line(node);
    if (line >= 0) return arrow::Status::Invalid(fmt::format("{}:{}: {}", where_, line + 1, what));
    return arrow::Status::Invalid(fmt::format("{}: {}", where_, what));
  }

  /// The error for a key at `path` given no value.
  arrow::Status Empty(const YAML::Node& node, const std::string& path) const {
    if (!SpelledNull(node).empty()) {
      return Error(node, fmt::format("'{}' is null: give it a value (\"null\" for the word)", path));
    }
    return Error(node, fmt::format("'{}' is empty: give it a value (\"\" for empty text)", path));
  }

  /// How a null value was written ("null", "Null", "NULL" or "~"); "" when it was left
  /// empty, is not null, or the document's text is unknown.
  std::string SpelledNull(const YAML::Node& node) const {
    const auto mark = node.Mark();
    if (!node.IsNull() || mark.pos < 0 || static_cast<size_t>(mark.pos) >= text_.size()) return "";
    // An empty value is placed at the next token: then only blanks and a line break
    // separate it from its key.
    size_t before = static_cast<size_t>(mark.pos);
    while (before > 0 && (text_[before - 1] == ' ' || text_[before - 1] == '\t')) --before;
    if (before == 0 || text_[before - 1] == '\n' || text_[before - 1] == '\r') return "";
    size_t end = static_cast<size_t>(mark.pos);
    while (end < text_.size() && !std::isspace(static_cast<unsigned char>(text_[end])) &&
           text_[end] != ',' && text_[end] != '}' && text_[end] != ']' && text_[end] != '#') {
      ++end;
    }
    const std::string word = text_.substr(static_cast<size_t>(mark.pos), end - mark.pos);
    return word == "null" || word == "Null" || word == "NULL" || word == "~" ? word : "";
  }

  arrow::Status OnlyKeys(const YAML::Node& map, const std::string& path,
                         std::initializer_list<const char*> allowed) const {
    if (!map.IsMap()) return Error(map, fmt::format("'{}' must be a map", path));
    const std::set<std::string> keys(allowed.begin(), allowed.end());
    for (const auto& item : map) {
      ARROW_ASSIGN_OR_RAISE(const auto key, Key(item.first, path));
      if (!keys.contains(key)) {
        const std::string full = path.empty() ? key : path + "." + key;
        return Error(item.first, fmt::format("unknown key '{}'", full));
      }
    }
    return arrow::Status::OK();
  }

  /// The text of a key of the map at `path` ("null" for a null key, as yaml-cpp reads it).
  /// A list or a map used as a key is an error, not an exception.
  arrow::Result<std::string> Key(const YAML::Node& key, const std::string& path) const {
    if (key.IsMap() || key.IsSequence()) {
      return Error(key, path.empty() ? std::string("keys must be strings")
                                     : fmt::format("keys of '{}' must be strings", path));
    }
    return key.as<std::string>();
  }

  arrow::Result<std::string> String(const YAML::Node& node, const std::string& path) const {
    if (node.IsNull()) return Empty(node, path);
    if (!node.IsScalar()) return Error(node, fmt::format("'{}' must be a string", path));
    return node.Scalar();
  }

  /// Any scalar (text, number, true/false) as written, for maps of free-form options.
  arrow::Result<std::string> Value(const YAML::Node& node, const std::string& path) const {
    if (node.IsNull()) return Empty(node, path);
    if (!node.IsScalar()) return Error(node, fmt::format("'{}' must be a value", path));
    return node.Scalar();
  }

  arrow::Result<bool> Bool(const YAML::Node& node, const std::string& path) const {
    if (node.IsNull()) return Empty(node, path);
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return Error(node, fmt::format("'{}' must be true or false", path));
    }
    return value;
  }

  arrow::Result<int64_t> Int(const YAML::Node& node, const std::string& path) const {
    if (node.IsNull()) return Empty(node, path);
    long long value = 0;
    if (!node.IsScalar() || !YAML::convert<long long>::decode(node, value) || value < 0) {
      return Error(node, fmt::format("'{}' must be a non-negative integer", path));
    }
    return value;
  }

  /// A non-negative number (seconds, say); .nan and .inf are refused.
  arrow::Result<double> Number(const YAML::Node& node, const std::string& path) const {
    if (node.IsNull()) return Empty(node, path);
    double value = 0;
    // !(value >= 0) also refuses .nan.
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) || !(value >= 0)) {
      return Error(node, fmt::format("'{}' must be a non-negative number", path));
    }
    return value;
  }

  /// A size given in MiB ("file_size_mb"), in bytes; too large for int64 is an error.
  arrow::Result<int64_t> Megabytes(const YAML::Node& node, const std::string& path) const {
    ARROW_ASSIGN_OR_RAISE(const int64_t mb, Int(node, path));
    if (mb > (std::numeric_limits<int64_t>::max() >> 20)) {
      return Error(node, fmt::format("'{}' is too large", path));
    }
    return mb << 20;
  }

  arrow::Result<std::vector<std::string>> Strings(const YAML::Node& node,
                                                  const std::string& path) const {
    if (node.IsNull()) return Empty(node, path);
    std::vector<std::string> out;
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      return out;
    }
    if (!node.IsSequence()) return Error(node, fmt::format("'{}' must be a list", path));
    for (const auto& item : node) {
      ARROW_ASSIGN_OR_RAISE(auto s, String(item, path + "[]"));
      out.push_back(std::move(s));
    }
    return out;
  }

  const std::string& where() const { return where_; }

 private:
  /// The 0-based line of `node`, or -1 when it has no place in the document. An empty
  /// value belongs to the line of the last character before the token yaml-cpp put it at.
  int Line(const YAML::Node& node) const {
    const auto mark = node.Mark();
    if (mark.line < 0 || !node.IsNull() || text_.empty() || mark.pos < 0 ||
        static_cast<size_t>(mark.pos) > text_.size()) {
      return mark.line;
    }
    size_t pos = static_cast<size_t>(mark.pos);
    while (pos > 0 && std::isspace(static_cast<unsigned char>(text_[pos - 1]))) --pos;
    return static_cast<int>(std::count(text_.begin(), text_.begin() + pos, '\n'));
  }

  std::string where_;
  std::string text_;
};

}  // namespace lakepipe::common
