#include <fmt/format.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/cli/query_output.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/storage/uri.h"

namespace lakepipe::cli {

void AddQueryCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand(
      "query", "Run SQL in DuckDB with the storage config applied (read_parquet('s3://…'))");
  auto sql = std::make_shared<std::string>();
  cmd->add_option("sql", *sql, "The query")->required();
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      // DuckDB would echo such a URI in its errors; refuse it as every other command does.
      ARROW_RETURN_NOT_OK(storage::CheckNoUriCredentials(*sql));
      ARROW_ASSIGN_OR_RAISE(auto options, LoadStorageOptions(flags));
      ARROW_ASSIGN_OR_RAISE(auto db, duckdb::Database::Open({}));
      ARROW_RETURN_NOT_OK(db->ConfigureStorage(options));
      // It reads whatever the user can (their shell, their secrets) but writes nothing.
      ARROW_RETURN_NOT_OK(db->CheckReadOnly(*sql));
      ARROW_ASSIGN_OR_RAISE(auto result, db->QueryText(*sql));
      PrintQueryResult(result, flags.output);
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
