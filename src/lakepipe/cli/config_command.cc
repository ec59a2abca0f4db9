// `lakepipe config [NAME]`: a pipeline's settings as DataSpoc Pipe's PipelineConfig
// (model_dump) has them, so PipeClient.config() returns what dataspoc_pipe's does. Nothing
// secret is printed: an inline tap config shows its keys with every value hidden, and every
// other string goes through the redaction the errors go through.

#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"
#include "lakepipe/postgres/postgres_connection.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::cli {
namespace {

constexpr const char* kHidden = "***";

// The tap's config keeps its shape (keys, nesting, lists) but no value: which key of a
// tap's config is a password, token or key is the tap's business, so none is shown.
nlohmann::ordered_json HideValues(const nlohmann::json& value) {
  if (value.is_object()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& [key, item] : value.items()) out[key] = HideValues(item);
    return out;
  }
  if (value.is_array()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& item : value) out.push_back(HideValues(item));
    return out;
  }
  return kHidden;
}

nlohmann::ordered_json OrNull(const std::string& text) {
  return text.empty() ? nlohmann::ordered_json(nullptr)
                      : nlohmann::ordered_json(storage::RedactSecrets(text));
}

nlohmann::ordered_json SourceJson(const pipeline::SourceConfig& source) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["tap"] = OrNull(fmt::format("{}", fmt::join(source.tap_argv, " ")));
  if (source.config_inline) {
    out["config"] = HideValues(*source.config_inline);
  } else {
    out["config"] = OrNull(source.config_path);
  }
  out["streams"] = source.streams.empty() ? nlohmann::ordered_json(nullptr)
                                          : nlohmann::ordered_json(source.streams);
  // lakepipe's built-in readers, which DataSpoc Pipe has not.
  if (!source.reader.empty()) {
    out["reader"] = source.reader;
    out["uri"] = source.reader == "postgres" ? postgres::RedactPostgresUrl(source.uri)
                                              : storage::RedactSecrets(source.uri);
    out["stream"] = OrNull(source.stream);
  }
  return out;
}

nlohmann::ordered_json DestinationJson(const pipeline::DestinationConfig& destination) {
  return {{"bucket", storage::RedactSecrets(destination.bucket)},
          {"path", destination.path},
          {"partition_by", destination.partition_by},
          {"compression", destination.parquet.compression}};
}

nlohmann::ordered_json ConfigJson(const pipeline::PipelineConfig& config) {
  nlohmann::ordered_json out = {{"name", config.name}, {"source", SourceJson(config.source)}};
  out["destination"] = config.destinations.empty()
                           ? nlohmann::ordered_json(nullptr)
                           : DestinationJson(config.destinations.front());
  if (config.destinations.size() > 1) {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const auto& destination : config.destinations) all.push_back(DestinationJson(destination));
    out["destinations"] = std::move(all);
  }
  out["incremental"] = {{"enabled", config.incremental}};
  out["schedule"] = {{"cron", config.schedule_cron.empty()
                                  ? nlohmann::ordered_json(nullptr)
                                  : nlohmann::ordered_json(config.schedule_cron)}};
  return out;
}

}  // namespace

void AddConfigCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand(
      "config", "A pipeline's settings (DataSpoc Pipe's shape), secrets hidden");
  auto name = std::make_shared<std::string>();
  auto names_only = std::make_shared<bool>(false);
  cmd->add_option("name", *name, "Pipeline (all when omitted)");
  cmd->add_flag("--names", *names_only,
                "Only the names of the pipeline files, loaded or not (PipeClient.pipelines)");
  cmd->callback([=, &flags] {
    if (*names_only && !name->empty())
      throw CLI::ValidationError("config", "give a pipeline name or --names (not both)");
    *run = [=, &flags]() -> arrow::Status {
      const int indent = flags.output == "json" ? -1 : 2;
      const auto home = pipeline::Home::Resolve(flags.home);
      if (*names_only) {
        const auto names = home.ListPipelines();
        if (flags.output == "json") {
          std::cout << nlohmann::json(names).dump() << "\n";
        } else {
          for (const auto& each : names) std::cout << each << "\n";
        }
        return arrow::Status::OK();
      }
      if (!name->empty()) {
        ARROW_ASSIGN_OR_RAISE(auto config, LoadPipeline(flags, *name));
        std::cout << ConfigJson(config).dump(indent) << "\n";
        return arrow::Status::OK();
      }
      nlohmann::ordered_json all = nlohmann::ordered_json::array();
      for (const auto& each : home.ListPipelines()) {
        ARROW_ASSIGN_OR_RAISE(auto config, LoadPipeline(flags, each));
        all.push_back(ConfigJson(config));
      }
      std::cout << all.dump(indent) << "\n";
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
