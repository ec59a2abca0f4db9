#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"
#include "lakepipe/cli/log_reader.h"

namespace lakepipe::cli {

void AddStatusCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand("status", "Last run of every pipeline");
  cmd->callback([=, &flags] {
    *run = [&flags]() -> arrow::Status {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& name : pipeline::Home::Resolve(flags.home).ListPipelines()) {
        nlohmann::json row = {{"pipeline", name}};
        auto config = LoadPipeline(flags, name);
        if (!config.ok()) {
          row["status"] = "invalid";
          row["error"] = config.status().message();
        } else {
          ARROW_ASSIGN_OR_RAISE(auto storage, storage::Storage::Make(config->storage));
          auto logs = LastRunLogs(*storage, *config, 1);
          if (!logs.ok()) {
            row["status"] = "unknown";
            row["error"] = logs.status().message();
          } else if (logs->empty()) {
            row["status"] = "never run";
          } else {
            const auto& log = logs->back();
            row["status"] = log.value("status", "?");
            row["started_at"] = log.value("started_at", "");
            row["finished_at"] = log.value("finished_at", "");
            row["duration_seconds"] = log.value("duration_seconds", 0.0);
            row["total_records"] = log.value("total_records", 0);
            if (log.contains("error")) row["error"] = log["error"];
          }
        }
        rows.push_back(row);
      }
      if (flags.output == "json") {
        std::cout << rows.dump() << "\n";
        return arrow::Status::OK();
      }
      for (const auto& row : rows) {
        std::cout << fmt::format(
            "{:<24} {:<10} {:<32} {}\n", row["pipeline"].get<std::string>(),
            row["status"].get<std::string>(), row.value("finished_at", ""),
            row.contains("total_records")
                ? fmt::format("{} records", row["total_records"].get<int64_t>())
                : row.value("error", ""));
      }
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
