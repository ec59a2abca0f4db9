#include <iostream>

#include <fmt/format.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/cli/query_output.h"
#include "lakepipe/common/error_subject.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/flow/flow_config.h"
#include "lakepipe/storage/uri.h"
#include "lakepipe/tablestore/catalog.h"
#include "lakepipe/tablestore/catalog_wal.h"

namespace lakepipe::cli {
namespace {

arrow::Status InFlow(const std::string& flow, const arrow::Status& status) {
  return WithSubject(status, Subject::Flow(flow));
}

}  // namespace

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
      ARROW_RETURN_NOT_OK(storage::CheckNoUriCredentials(*sql));  // as `lakepipe query`
      std::optional<std::string> chosen;
      if (!instance->empty()) chosen = *instance;
      ARROW_ASSIGN_OR_RAISE(auto config, flow::LoadFlowConfig(*file, chosen));
      if (!flags.storage_file.empty()) {
        ARROW_RETURN_NOT_OK(config.storage.MergeYamlFile(flags.storage_file));
      }
      // A stale WAL a client left beside the catalog is removed first (catalog_wal.h).
      auto db = tablestore::OpenPublishedCatalog(config.store.catalog_path);
      if (!db.ok()) {
        return WithSubject(db.status().WithMessage(fmt::format(
                               "cannot open catalog '{}' (has the flow run?): {}",
                               config.store.catalog_path, db.status().message())),
                           Subject::Flow(config.name));
      }
      // Secrets live in this session only: the catalog file never holds them.
      ARROW_RETURN_NOT_OK((*db)->ConfigureStorage(config.storage));
      // Read-only means more than the catalog file: the session reads only under the
      // flow's table base (where every view's files are) and runs one SELECT.
      ARROW_ASSIGN_OR_RAISE(auto base, storage::Uri::Parse(config.store.base));
      ARROW_RETURN_NOT_OK((*db)->RestrictFileAccess({tablestore::DuckDbPath(base) + "/"}));
      ARROW_RETURN_NOT_OK(InFlow(config.name, (*db)->CheckReadOnly(*sql)));
      ARROW_ASSIGN_OR_RAISE(auto result, (*db)->QueryText(*sql));
      PrintQueryResult(result, flags.output);
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
