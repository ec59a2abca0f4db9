#pragma once

#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "lakepipe/pipeline/pipeline_config.h"
#include "lakepipe/singer/singer_source.h"
#include "lakepipe/sources/ingest_source.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::pipeline {

/// The source a pipeline reads from: a Singer tap, or a built-in reader chosen by
/// `source.reader`. `state` is the last committed bookmark (incremental runs).
arrow::Result<std::unique_ptr<sources::IngestSource>> MakeSource(
    const PipelineConfig& config, const std::optional<nlohmann::json>& state,
    storage::Storage* storage);

/// The settings of a pipeline's Singer tap (`source.tap`), as a run uses them.
arrow::Result<singer::SingerSourceOptions> MakeSingerOptions(
    const PipelineConfig& config, const std::optional<nlohmann::json>& state);

/// The tap's config: the inline map, or the JSON file it names (errors name the file).
arrow::Result<std::optional<nlohmann::json>> LoadTapConfig(const SourceConfig& source);

}  // namespace lakepipe::pipeline
