#pragma once

#include <cstdint>
#include <string>

#include <arrow/status.h>

#include "lakepipe/parquet/parquet_file_writer.h"

namespace YAML {
class Node;
}
namespace lakepipe::common {
class YamlReader;
}

namespace lakepipe::parquet {

/// Reads the Parquet keys of the YAML map `node` at `path`, as a pipeline's destination
/// and a flow's table_store block and tasks spell them:
///
///   compression: zstd        # zstd | snappy | gzip | lz4 | brotli | none
///   compression_level: 3
///   row_group_rows: 131072
///   file_size_mb: 256        # into *file_size_bytes
///
/// Keys absent keep what `*options` and `*file_size_bytes` hold; other keys are the
/// caller's. Errors name the file, line and key ('destination.row_group_rows'); the result
/// is validated (ValidateParquetOptions), its error prefixed by `path`.
arrow::Status ParseParquetYaml(const common::YamlReader& reader, const YAML::Node& node,
                               const std::string& path, ParquetWriteOptions* options,
                               int64_t* file_size_bytes);

}  // namespace lakepipe::parquet
