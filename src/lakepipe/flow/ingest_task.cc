#include "lakepipe/flow/ingest_task.h"

#include <fmt/format.h>

#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/lake/manifest_store.h"
#include "lakepipe/pipeline/home.h"
#include "lakepipe/pipeline/ingest_runner.h"
#include "lakepipe/pipeline/pipeline_config.h"
#include "lakepipe/pipeline/run_lock.h"

namespace lakepipe::flow {

arrow::Result<IngestedTable> RunIngestTask(const std::string& home_flag,
                                           const std::string& pipeline, const std::string& stream) {
  const auto home = pipeline::Home::Resolve(home_flag);
  ARROW_ASSIGN_OR_RAISE(
      auto config, pipeline::LoadPipelineFile(home.PipelineFile(pipeline), pipeline, home.path()));
  ARROW_ASSIGN_OR_RAISE(auto storage, storage::Storage::Make(config.storage));
  pipeline::RunResult result;
  {
    ARROW_ASSIGN_OR_RAISE(auto lock, pipeline::RunLock::Acquire(home.LocksDir(), pipeline));
    ARROW_ASSIGN_OR_RAISE(result, pipeline::RunPipeline(config, storage.get(), {}));
  }
  std::string table = stream;
  if (table.empty()) {
    if (result.streams.size() != 1) {
      return arrow::Status::Invalid(
          fmt::format("pipeline '{}' has {} streams: name one with ingest.stream", pipeline,
                      result.streams.size()));
    }
    table = result.streams.begin()->first;
  }
  ARROW_ASSIGN_OR_RAISE(auto bucket, storage::Uri::Parse(config.destinations.at(0).bucket));
  lake::ManifestStore manifest(storage.get(), lake::BucketLayout(bucket));
  ARROW_ASSIGN_OR_RAISE(auto entry, manifest.LoadTable(config.SourceName(), table));
  if (!entry) {
    return arrow::Status::KeyError(
        fmt::format("pipeline '{}' has no table for stream '{}'", pipeline, table));
  }
  IngestedTable out;
  out.key = entry->Key();
  for (const auto& file : entry->files) {
    out.files.push_back(bucket.Join(file.path));
    out.rows.push_back(file.rows);
    out.bytes.push_back(file.bytes);
  }
  return out;
}

}  // namespace lakepipe::flow
