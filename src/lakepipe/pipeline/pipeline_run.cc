#include "lakepipe/pipeline/pipeline_run.h"

#include <filesystem>

#include <fmt/format.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/lake/manifest_store.h"
#include "lakepipe/pipeline/run_lock.h"

namespace lakepipe::pipeline {

arrow::Result<PipelineConfig> LoadHomePipeline(const Home& home, const std::string& name,
                                               const std::string& storage_file) {
  const std::string file = home.PipelineFile(name);
  if (!std::filesystem::exists(file)) {
    return Naming(
        arrow::Status::IOError(fmt::format("pipeline '{}' not found: no '{}'", name, file)),
        Subject::Pipeline(name));
  }
  ARROW_ASSIGN_OR_RAISE(auto config, LoadPipelineFile(file, name, home.path()));
  if (!storage_file.empty()) ARROW_RETURN_NOT_OK(config.storage.MergeYamlFile(storage_file));
  return config;
}

const lake::TableEntry* CommittedRun::FindTable(const std::string& table) const {
  for (const auto& entry : tables) {
    if (entry.table == table) return &entry;
  }
  return nullptr;
}

arrow::Result<CommittedRun> RunPipelineLocked(const PipelineConfig& config, const Home& home,
                                              const RunOptions& options) {
  auto made = storage::Storage::Make(config.storage);
  if (!made.ok()) return WithSubject(made.status(), Subject::Pipeline(config.name));
  auto storage = std::move(*made);
  ARROW_ASSIGN_OR_RAISE(auto lock, RunLock::Acquire(home.LocksDir(), config.name));
  ARROW_ASSIGN_OR_RAISE(auto result, RunPipeline(config, storage.get(), options));
  // Read under the lock: the entries as this run left them.
  ARROW_ASSIGN_OR_RAISE(auto bucket, storage::Uri::Parse(config.destinations.at(0).bucket));
  CommittedRun out{std::move(result), std::move(bucket), {}};
  lake::ManifestStore manifest(storage.get(), lake::BucketLayout(out.bucket));
  for (const auto& [stream, progress] : out.result.streams) {
    ARROW_ASSIGN_OR_RAISE(auto entry, manifest.LoadTable(config.SourceName(), stream));
    if (entry) out.tables.push_back(std::move(*entry));
  }
  return out;
}

}  // namespace lakepipe::pipeline
