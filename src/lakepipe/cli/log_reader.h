#pragma once

#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/pipeline/pipeline_config.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::cli {

/// The last `count` run logs of a pipeline (from its first destination), oldest first.
arrow::Result<std::vector<nlohmann::json>> LastRunLogs(storage::Storage& storage,
                                                       const pipeline::PipelineConfig& config,
                                                       size_t count);

}  // namespace lakepipe::cli
