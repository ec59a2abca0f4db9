#include "lakepipe/parquet/parquet_options_yaml.h"

#include <limits>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "lakepipe/common/yaml_reader.h"

namespace lakepipe::parquet {

arrow::Status ParseParquetYaml(const common::YamlReader& r, const YAML::Node& node,
                               const std::string& path, ParquetWriteOptions* options,
                               int64_t* file_size_bytes) {
  const auto key = [&](const char* name) { return fmt::format("{}.{}", path, name); };
  if (node["compression"]) {
    ARROW_ASSIGN_OR_RAISE(options->compression, r.String(node["compression"], key("compression")));
  }
  if (node["compression_level"]) {
    ARROW_ASSIGN_OR_RAISE(auto level,
                          r.Int(node["compression_level"], key("compression_level")));
    if (level > std::numeric_limits<int>::max()) {
      return r.Error(node["compression_level"],
                     fmt::format("'{}' is too large", key("compression_level")));
    }
    options->compression_level = static_cast<int>(level);
  }
  if (node["row_group_rows"]) {
    ARROW_ASSIGN_OR_RAISE(options->row_group_rows,
                          r.Int(node["row_group_rows"], key("row_group_rows")));
  }
  if (node["file_size_mb"]) {
    ARROW_ASSIGN_OR_RAISE(*file_size_bytes, r.Megabytes(node["file_size_mb"], key("file_size_mb")));
  }
  auto status = ValidateParquetOptions(*options);
  if (!status.ok()) return r.Error(node, fmt::format("'{}': {}", path, status.message()));
  return arrow::Status::OK();
}

}  // namespace lakepipe::parquet
