#include "lakepipe/cli/log_reader.h"

#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/lake/manifest_store.h"

namespace lakepipe::cli {

arrow::Result<std::vector<nlohmann::json>> LastRunLogs(storage::Storage& storage,
                                                       const pipeline::PipelineConfig& config,
                                                       size_t count) {
  ARROW_ASSIGN_OR_RAISE(auto bucket, storage::Uri::Parse(config.destinations.front().bucket));
  lake::BucketLayout layout(bucket);
  ARROW_ASSIGN_OR_RAISE(auto files, storage.List(layout.LogsDir(config.name), false));
  std::vector<storage::Uri> logs;
  for (const auto& f : files) {
    if (!f.is_dir && f.uri.Name().ends_with(".json")) logs.push_back(f.uri);
  }
  // Names are UTC timestamps: name order is time order.
  if (logs.size() > count) logs.erase(logs.begin(), logs.end() - static_cast<ptrdiff_t>(count));
  std::vector<nlohmann::json> out;
  for (const auto& uri : logs) {
    ARROW_ASSIGN_OR_RAISE(auto json, lake::ReadJsonDocument(&storage, uri));
    out.push_back(std::move(json));
  }
  return out;
}

}  // namespace lakepipe::cli
