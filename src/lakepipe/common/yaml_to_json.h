#pragma once

#include <cstdint>
#include <string>

#include <arrow/result.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "lakepipe/common/yaml_reader.h"

namespace lakepipe::common {

/// Bounds on the JSON made from a YAML value. YAML aliases ("*a") repeat the node they
/// name without copying it, so a few hundred bytes of nested aliases ("billion laughs")
/// stand for billions of values once converted: the conversion counts what it makes and
/// stops at these limits instead of exhausting memory.
struct YamlToJsonLimits {
  /// Nesting of maps and lists; the root value is depth 1.
  int max_depth = 64;
  /// Values made (maps, lists, scalars), with every alias expanded.
  int64_t max_values = 100'000;
  /// Bytes of keys and scalar text, with every alias expanded.
  int64_t max_bytes = 16 << 20;
};

/// `node` as JSON, keeping numbers and booleans typed (a quoted scalar stays a string).
/// Errors name the file and line through `reader` and the value by `path`
/// ("source.config.host"): keys that are not strings, text that is not UTF-8 (JSON needs
/// it), and any limit passed.
arrow::Result<nlohmann::json> YamlToJson(const YamlReader& reader, const YAML::Node& node,
                                         const std::string& path,
                                         const YamlToJsonLimits& limits = {});

}  // namespace lakepipe::common
