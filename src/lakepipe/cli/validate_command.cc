#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/common/error_subject.h"
#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/pipeline/source_factory.h"
#include "lakepipe/singer/json_schema.h"
#include "lakepipe/singer/singer_source.h"
#include "lakepipe/sources/file_source.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::cli {
namespace {

// True when `program` names an executable file, directly or on PATH.
bool OnPath(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Writes and deletes a probe object: proves the bucket exists and we may write to it.
arrow::Status CheckWritable(storage::Storage& storage, const std::string& bucket) {
  ARROW_ASSIGN_OR_RAISE(auto root, storage::Uri::Parse(bucket));
  std::random_device rd;
  const auto probe = lake::BucketLayout(root).ProbeUri(fmt::format("{:08x}", rd()));
  ARROW_RETURN_NOT_OK(storage.WriteAll(probe, "probe"));
  return storage.Delete(probe);
}

// Discovers the tap's catalog and maps the selected streams' schemas as a run would, so a
// schema that cannot be loaded fails here, not at the first run. A tap without discovery
// mode is fine unless the pipeline needs a catalog (streams to select, incremental keys).
arrow::Status CheckTapSchemas(const singer::SingerSourceOptions& options) {
  auto catalog = singer::SingerSource::DiscoverAndSelect(options);
  if (!catalog.ok()) {
    if (options.NeedsCatalog()) return catalog.status();
    std::cerr << fmt::format(
        "lakepipe: note: no catalog from discovery ({}); stream schemas "
        "are checked when the pipeline runs\n",
        catalog.status().message());
    return arrow::Status::OK();
  }
  for (const auto& stream : (*catalog)["streams"]) {
    if (!stream.is_object() || !stream.contains("schema")) continue;
    const auto& metadata = stream.value("metadata", nlohmann::ordered_json::array());
    bool selected = stream["schema"].is_object() && stream["schema"].value("selected", false);
    for (const auto& entry : metadata) {
      if (entry.is_object() && entry.value("breadcrumb", nlohmann::ordered_json::array()).empty())
        selected = entry["metadata"].value("selected", selected);
    }
    if (!selected) continue;
    const std::string name = stream.value("stream", stream.value("tap_stream_id", ""));
    auto schema = singer::JsonSchemaToArrow(stream["schema"]);
    if (!schema.ok()) return WithSubject(schema.status(), Subject::Stream(name));
  }
  return arrow::Status::OK();
}

// The checks of a loaded pipeline; ValidateOne names the pipeline in their errors.
arrow::Status CheckPipeline(const pipeline::PipelineConfig& config) {
  ARROW_ASSIGN_OR_RAISE(auto storage, storage::Storage::Make(config.storage));
  if (!config.source.tap_argv.empty()) {
    const std::string& program = config.source.tap_argv.front();
    if (!OnPath(program)) {
      return arrow::Status::IOError(fmt::format("tap '{}' not found on PATH", program));
    }
    ARROW_ASSIGN_OR_RAISE(auto options, pipeline::MakeSingerOptions(config, std::nullopt));
    ARROW_RETURN_NOT_OK(CheckTapSchemas(options));
  } else if (config.source.reader != "demo" && config.source.reader != "postgres") {
    ARROW_RETURN_NOT_OK(sources::ExpandGlob(storage.get(), config.source.uri));
  }
  for (const auto& destination : config.destinations) {
    auto status = CheckWritable(*storage, destination.bucket);
    if (!status.ok()) {
      return status.WithMessage(fmt::format("bucket not writable: {}", status.message()));
    }
  }
  return arrow::Status::OK();
}

arrow::Status ValidateOne(const GlobalFlags& flags, const std::string& name) {
  ARROW_ASSIGN_OR_RAISE(auto config, LoadPipeline(flags, name));
  ARROW_RETURN_NOT_OK(WithSubject(CheckPipeline(config), Subject::Pipeline(name)));
  std::cout << fmt::format("{}: ok\n", name);
  return arrow::Status::OK();
}

}  // namespace

void AddValidateCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand(
      "validate", "Check pipeline files: config, tap found, input present, bucket writable");
  auto name = std::make_shared<std::string>();
  cmd->add_option("name", *name, "Pipeline (all when omitted)");
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      std::vector<std::string> names = {*name};
      if (name->empty()) names = pipeline::Home::Resolve(flags.home).ListPipelines();
      if (names.size() == 1) return ValidateOne(flags, names.front());
      size_t failed = 0;
      for (const auto& n : names) {
        auto status = ValidateOne(flags, n);
        if (!status.ok()) {
          std::cerr << "lakepipe: error: " << storage::RedactSecrets(status.message()) << "\n";
          ++failed;
        }
      }
      if (failed == 0) return arrow::Status::OK();
      return arrow::Status::Invalid(
          fmt::format("{} of {} pipelines failed validation", failed, names.size()));
    };
  });
}

}  // namespace lakepipe::cli
