#include <iostream>

#include "lakepipe/cli/commands.h"
#include "lakepipe/cli/query_output.h"
#include "lakepipe/flow/catalog_session.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/storage/uri.h"

namespace lakepipe::cli {

void AddSqlCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand(
      "sql", "Query a flow's catalog read-only, with DuckDB secrets from the flow's storage");
  auto file = std::make_shared<std::string>();
  auto instance = std::make_shared<std::string>();
  auto sql = std::make_shared<std::string>();
  cmd->add_option("flow", *file, "The flow file (YAML)")->required();
  cmd->add_option("sql", *sql, "The query")->required();
  cmd->add_option("--instance", *instance, "Instance to use instead of the file's");
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      // Refused before anything is opened (CheckCatalogQuery checks again, for every caller).
      ARROW_RETURN_NOT_OK(storage::CheckNoUriCredentials(*sql));
      std::optional<std::string> chosen;
      if (!instance->empty()) chosen = *instance;
      ARROW_ASSIGN_OR_RAISE(auto config, flow::LoadFlowConfig(*file, chosen));
      if (!flags.storage_file.empty()) {
        ARROW_RETURN_NOT_OK(config.storage.MergeYamlFile(flags.storage_file));
      }
      ARROW_ASSIGN_OR_RAISE(auto db, flow::OpenCatalogSession(config));
      ARROW_RETURN_NOT_OK(flow::CheckCatalogQuery(config, *db, *sql));
      ARROW_ASSIGN_OR_RAISE(auto result, db->QueryText(*sql));
      PrintQueryResult(result, flags.output);
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
