#include "lakepipe/common/yaml_to_json.h"

#include <arrow/util/utf8.h>
#include <fmt/format.h>

namespace lakepipe::common {
namespace {

bool IsUtf8(std::string_view text) {
  arrow::util::InitializeUTF8();  // the validator's tables, built once
  return arrow::util::ValidateUTF8(text);
}

// One conversion: the root's path (for the limit errors) and what has been made so far.
class Converter {
 public:
  Converter(const YamlReader& reader, const YAML::Node& root, std::string root_path,
            const YamlToJsonLimits& limits)
      : r_(reader), root_(root), root_path_(std::move(root_path)), limits_(limits) {}

  arrow::Result<nlohmann::json> Convert(const YAML::Node& node, const std::string& path,
                                        int depth) {
    if (depth > limits_.max_depth) {
      return r_.Error(root_, fmt::format("'{}' nests deeper than {} levels", root_path_,
                                         limits_.max_depth));
    }
    if (++values_ > limits_.max_values) {
      return TooLarge(fmt::format("more than {} values", limits_.max_values));
    }
    switch (node.Type()) {
      case YAML::NodeType::Map:
        return Map(node, path, depth);
      case YAML::NodeType::Sequence: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& item : node) {
          ARROW_ASSIGN_OR_RAISE(auto value, Convert(item, path + "[]", depth + 1));
          out.push_back(std::move(value));
        }
        return out;
      }
      case YAML::NodeType::Scalar:
        return Scalar(node, path);
      default:
        return nullptr;
    }
  }

 private:
  arrow::Result<nlohmann::json> Map(const YAML::Node& node, const std::string& path, int depth) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& item : node) {
      ARROW_ASSIGN_OR_RAISE(auto key, r_.Key(item.first, path));
      ARROW_RETURN_NOT_OK(CountBytes(key.size()));
      if (!IsUtf8(key)) {
        return r_.Error(item.first, fmt::format("a key of '{}' is not UTF-8 text", path));
      }
      ARROW_ASSIGN_OR_RAISE(out[key], Convert(item.second, path + "." + key, depth + 1));
    }
    return out;
  }

  arrow::Result<nlohmann::json> Scalar(const YAML::Node& node, const std::string& path) {
    const std::string& s = node.Scalar();
    ARROW_RETURN_NOT_OK(CountBytes(s.size()));
    // JSON (the tap reads its config as JSON) needs UTF-8 text.
    if (!IsUtf8(s)) return r_.Error(node, fmt::format("'{}' is not UTF-8 text", path));
    if (node.Tag() == "!") return s;  // quoted in the YAML
    // Keep numbers and booleans typed: taps expect them so in their config.
    long long i = 0;
    double d = 0;
    bool b = false;
    if (YAML::convert<long long>::decode(node, i)) return i;
    if (YAML::convert<double>::decode(node, d)) return d;
    if (YAML::convert<bool>::decode(node, b)) return b;
    return s;
  }

  arrow::Status CountBytes(size_t n) {
    bytes_ += static_cast<int64_t>(n);
    if (bytes_ <= limits_.max_bytes) return arrow::Status::OK();
    return TooLarge(fmt::format("more than {} MiB of text", limits_.max_bytes >> 20));
  }

  arrow::Status TooLarge(const std::string& what) const {
    return r_.Error(root_, fmt::format("'{}' expands to {} (YAML aliases repeat what they "
                                       "name); make it smaller or use a config file",
                                       root_path_, what));
  }

  const YamlReader& r_;
  const YAML::Node& root_;
  const std::string root_path_;
  const YamlToJsonLimits& limits_;
  int64_t values_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace

arrow::Result<nlohmann::json> YamlToJson(const YamlReader& reader, const YAML::Node& node,
                                         const std::string& path,
                                         const YamlToJsonLimits& limits) {
  return Converter(reader, node, path, limits).Convert(node, path, 1);
}

}  // namespace lakepipe::common
