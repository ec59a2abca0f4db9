#include "lakepipe/cli/cli_context.h"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "lakepipe/common/error_subject.h"

namespace lakepipe::cli {

arrow::Result<storage::StorageOptions> LoadStorageOptions(const GlobalFlags& flags) {
  auto options = storage::StorageOptions::FromEnvironment();
  if (!flags.storage_file.empty()) ARROW_RETURN_NOT_OK(options.MergeYamlFile(flags.storage_file));
  return options;
}

arrow::Result<std::unique_ptr<storage::Storage>> OpenStorage(const GlobalFlags& flags) {
  ARROW_ASSIGN_OR_RAISE(auto options, LoadStorageOptions(flags));
  return storage::Storage::Make(std::move(options));
}

arrow::Result<pipeline::PipelineConfig> LoadPipeline(const GlobalFlags& flags,
                                                     const std::string& name) {
  const auto home = pipeline::Home::Resolve(flags.home);
  const std::string file = home.PipelineFile(name);
  if (!std::filesystem::exists(file)) {
    return Naming(
        arrow::Status::IOError(fmt::format("pipeline '{}' not found: no '{}'", name, file)),
        Subject::Pipeline(name));
  }
  ARROW_ASSIGN_OR_RAISE(auto config, pipeline::LoadPipelineFile(file, name, home.path()));
  if (!flags.storage_file.empty())
    ARROW_RETURN_NOT_OK(config.storage.MergeYamlFile(flags.storage_file));
  return config;
}

bool StderrIsTty() { return ::isatty(STDERR_FILENO) == 1; }

std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

}  // namespace lakepipe::cli
