#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/pipeline/source_factory.h"
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
  const auto probe = root.Join(fmt::format(".dataspoc/.lakepipe-probe-{:08x}", rd()));
  ARROW_RETURN_NOT_OK(storage.WriteAll(probe, "probe"));
  return storage.Delete(probe);
}

arrow::Status ValidateOne(const GlobalFlags& flags, const std::string& name) {
  ARROW_ASSIGN_OR_RAISE(auto config, LoadPipeline(flags, name));
  ARROW_ASSIGN_OR_RAISE(auto storage, storage::Storage::Make(config.storage));
  if (!config.source.tap_argv.empty()) {
    const std::string& program = config.source.tap_argv.front();
    if (!OnPath(program)) {
      return arrow::Status::IOError(
          fmt::format("pipeline '{}': tap '{}' not found on PATH", name, program));
    }
    ARROW_RETURN_NOT_OK(pipeline::LoadTapConfig(config.source).status());
  } else if (config.source.reader != "demo" && config.source.reader != "postgres") {
    auto files = sources::ExpandGlob(storage.get(), config.source.uri);
    if (!files.ok()) {
      return files.status().WithMessage(
          fmt::format("pipeline '{}': {}", name, files.status().message()));
    }
  }
  for (const auto& destination : config.destinations) {
    auto status = CheckWritable(*storage, destination.bucket);
    if (!status.ok()) {
      return status.WithMessage(
          fmt::format("pipeline '{}': bucket not writable: {}", name, status.message()));
    }
  }
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
