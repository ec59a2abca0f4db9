#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lakepipe/parquet/column.h"

namespace lakepipe::parquet {

/// A Parquet file lakepipe wrote or copied: the one record of a file, as the rolling
/// writer hands it over, a lake table entry lists it and a stored table's metadata keeps
/// it (LevelDB's FileMetaData). Each persisted format keeps only some fields; a field its
/// format lacks reads back empty.
struct DataFileMeta {
  /// Relative to what its record belongs to: the bucket (lake), the store's base URI
  /// (table store, so a store moved or mirrored keeps its metadata), or as the rolling
  /// writer's caller named it in NextFile.
  std::string path;
  int64_t rows = 0;
  int64_t bytes = 0;
  /// sha256 (hex) of the file's bytes for a file lakepipe wrote; for an ingest file a flow
  /// copied, CopiedFileChecksum (flow/ingest_task.h). Not in the lake manifest.
  std::string checksum;
  /// The file's own columns. A lake entry keeps them only on a file whose columns differ
  /// from its table's (a table whose schema evolved); the table store keeps none (the
  /// table's schema_json and the files themselves say).
  std::vector<Column> columns;

  bool operator==(const DataFileMeta&) const = default;
};

}  // namespace lakepipe::parquet
