#include <iostream>

#include <fmt/format.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/cli/log_reader.h"

namespace lakepipe::cli {

void AddLogsCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand("logs", "Run logs of a pipeline");
  auto name = std::make_shared<std::string>();
  auto last = std::make_shared<size_t>(10);
  cmd->add_option("name", *name, "Pipeline")->required();
  cmd->add_option("--last", *last, "How many runs")->capture_default_str();
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto config, LoadPipeline(flags, *name));
      ARROW_ASSIGN_OR_RAISE(auto storage, storage::Storage::Make(config.storage));
      ARROW_ASSIGN_OR_RAISE(auto logs, LastRunLogs(*storage, config, *last));
      if (flags.output == "json") {
        std::cout << nlohmann::json(logs).dump() << "\n";
        return arrow::Status::OK();
      }
      for (const auto& log : logs) {
        std::cout << fmt::format(
            "{}  {:<8} {:>10} records  {:.2f} s{}\n", log.value("started_at", "?"),
            log.value("status", "?"), log.value("total_records", 0),
            log.value("duration_seconds", 0.0),
            log.contains("error") ? "  " + log["error"].get<std::string>() : "");
      }
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
