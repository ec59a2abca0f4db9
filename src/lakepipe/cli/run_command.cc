#include <csignal>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"
#include "lakepipe/cli/progress_display.h"
#include "lakepipe/common/error_subject.h"
#include "lakepipe/pipeline/ingest_runner.h"
#include "lakepipe/pipeline/run_lock.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::cli {
namespace {

std::atomic<bool> g_cancel{false};

void OnSignal(int) { g_cancel = true; }

// Runs one pipeline under its lock and reports it; returns the run's error.
arrow::Status RunOne(const GlobalFlags& flags, const std::string& name, bool full,
                     nlohmann::json* json_out) {
  ARROW_ASSIGN_OR_RAISE(auto config, LoadPipeline(flags, name));
  auto made = storage::Storage::Make(config.storage);
  if (!made.ok()) return WithSubject(made.status(), Subject::Pipeline(name));
  auto storage = std::move(*made);
  const auto home = pipeline::Home::Resolve(flags.home);
  ARROW_ASSIGN_OR_RAISE(auto lock, pipeline::RunLock::Acquire(home.LocksDir(), name));
  ProgressDisplay display(name, StderrIsTty() && flags.output != "json");
  pipeline::RunOptions options;
  options.full_refresh = full;
  options.cancel = &g_cancel;
  options.on_progress = [&](const auto& streams) { display.Update(streams); };
  auto result = pipeline::RunPipeline(config, storage.get(), options);
  display.Done();
  if (!result.ok()) return result.status();
  if (flags.output == "json") {
    json_out->push_back(result->ToLog());
  } else {
    std::cout << fmt::format("{}: {} records in {:.2f} s\n", name, result->total_records,
                             result->duration_seconds);
    for (const auto& [stream, p] : result->streams) {
      std::cout << fmt::format("  {}: {} records\n", stream, p.records);
    }
  }
  return arrow::Status::OK();
}

}  // namespace

void AddRunCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand("run", "Run a pipeline (or --all) once");
  auto name = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto full = std::make_shared<bool>(false);
  cmd->add_option("name", *name, "Pipeline name (a file under $LAKEPIPE_HOME/pipelines)");
  cmd->add_flag("--all", *all, "Run every pipeline, one after the other");
  cmd->add_flag("--full", *full, "Full refresh: replace the tables instead of appending");
  cmd->callback([=, &flags] {
    // Checked while parsing, so it is a usage error (exit 2) like any other.
    if (name->empty() == !*all)
      throw CLI::ValidationError("run", "give a pipeline name or --all (not both)");
    *run = [=, &flags]() -> arrow::Status {
      std::signal(SIGINT, OnSignal);
      std::signal(SIGTERM, OnSignal);
      std::vector<std::string> names = {*name};
      if (*all) names = pipeline::Home::Resolve(flags.home).ListPipelines();
      nlohmann::json results = nlohmann::json::array();
      arrow::Status first_error;
      size_t failed = 0;
      for (const auto& pipeline_name : names) {
        auto status = RunOne(flags, pipeline_name, *full, &results);
        if (!status.ok()) {
          // With --all, one failure does not stop the others; each is reported.
          if (names.size() > 1)
            std::cerr << "lakepipe: error: " << storage::RedactSecrets(status.message()) << "\n";
          if (first_error.ok()) first_error = status;
          ++failed;
        }
      }
      if (flags.output == "json") std::cout << results.dump() << "\n";
      if (names.size() > 1 && failed > 0) {
        return arrow::Status::IOError(
            fmt::format("{} of {} pipelines failed", failed, names.size()));
      }
      return first_error;
    };
  });
}

}  // namespace lakepipe::cli
