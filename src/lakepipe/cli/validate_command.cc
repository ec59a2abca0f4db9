#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

// The input a run reads: the tap found on PATH with schemas that load, or the reader's
// files present.
arrow::Status CheckSource(const pipeline::PipelineConfig& config, storage::Storage* storage) {
  if (!config.source.tap_argv.empty()) {
    const std::string& program = config.source.tap_argv.front();
    if (!OnPath(program)) {
      return arrow::Status::IOError(fmt::format("tap '{}' not found on PATH", program));
    }
    ARROW_ASSIGN_OR_RAISE(auto options, pipeline::MakeSingerOptions(config, std::nullopt));
    return CheckTapSchemas(options);
  }
  if (config.source.reader != "demo" && config.source.reader != "postgres") {
    return sources::ExpandGlob(storage, config.source.uri).status();
  }
  return arrow::Status::OK();
}

arrow::Status CheckBuckets(const pipeline::PipelineConfig& config, storage::Storage* storage) {
  for (const auto& destination : config.destinations) {
    auto status = CheckWritable(*storage, destination.bucket);
    if (!status.ok()) {
      return status.WithMessage(fmt::format("bucket not writable: {}", status.message()));
    }
  }
  return arrow::Status::OK();
}

// What validating one pipeline found; `--output json` prints it as a row.
struct Validation {
  bool config_ok = false;
  bool source_ok = false;
  bool bucket_ok = false;
  /// The first failure, as the error line says it (it names the pipeline).
  arrow::Status first_error;
  std::vector<std::string> errors;

  void Fail(const std::string& name, const arrow::Status& status) {
    auto named = storage::RedactSecrets(WithSubject(status, Subject::Pipeline(name)));
    errors.push_back(named.message());
    if (first_error.ok()) first_error = std::move(named);
  }
};

// Every check runs, so a row says of the source and of the bucket whether each is fine.
Validation ValidateOne(const GlobalFlags& flags, const std::string& name) {
  Validation v;
  auto config = LoadPipeline(flags, name);
  if (!config.ok()) {
    // Loading names the pipeline (or its file) already.
    v.first_error = storage::RedactSecrets(config.status());
    v.errors.push_back(v.first_error.message());
    return v;
  }
  v.config_ok = true;
  auto storage = storage::Storage::Make(config->storage);
  if (!storage.ok()) {
    v.Fail(name, storage.status());
    return v;
  }
  auto source = CheckSource(*config, storage->get());
  v.source_ok = source.ok();
  if (!source.ok()) v.Fail(name, source);
  auto buckets = CheckBuckets(*config, storage->get());
  v.bucket_ok = buckets.ok();
  if (!buckets.ok()) v.Fail(name, buckets);
  return v;
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
      const bool json = flags.output == "json";
      nlohmann::json rows = nlohmann::json::array();
      arrow::Status first_error;
      size_t failed = 0;
      for (const auto& n : names) {
        auto v = ValidateOne(flags, n);
        if (json) {
          rows.push_back({{"pipeline", n},
                          {"config_ok", v.config_ok},
                          {"source_ok", v.source_ok},
                          {"bucket_ok", v.bucket_ok},
                          {"errors", v.errors}});
        } else if (v.first_error.ok()) {
          std::cout << fmt::format("{}: ok\n", n);
        }
        if (v.first_error.ok()) continue;
        // With several pipelines, each failure is its own line; the summary ends the run.
        if (names.size() > 1) {
          std::cerr << "lakepipe: error: " << v.first_error.message() << "\n";
        } else {
          first_error = v.first_error;
        }
        ++failed;
      }
      if (json) std::cout << rows.dump() << "\n";
      if (names.size() == 1 || failed == 0) return first_error;
      return arrow::Status::Invalid(
          fmt::format("{} of {} pipelines failed validation", failed, names.size()));
    };
  });
}

}  // namespace lakepipe::cli
