#pragma once

#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/storage/uri.h"

namespace lakepipe::flow {

/// A stream's table as an ingest pipeline left it in its bucket.
struct IngestedTable {
  std::string key;                  ///< "<source>/<table>" in the bucket's manifest
  std::vector<storage::Uri> files;  ///< the entry's data files
  std::vector<int64_t> rows;        ///< per file
  std::vector<int64_t> bytes;       ///< per file
};

/// Runs the ingest pipeline `pipeline` (from the lakepipe home `home`, "" = the default)
/// once, holding its run lock, then reads the entry of `stream` (or of its only stream)
/// from its first destination's bucket. Errors name the pipeline and stream.
arrow::Result<IngestedTable> RunIngestTask(const std::string& home, const std::string& pipeline,
                                           const std::string& stream);

}  // namespace lakepipe::flow
