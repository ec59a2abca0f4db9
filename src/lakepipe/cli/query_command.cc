#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"
#include "lakepipe/duckdb/database.h"

namespace lakepipe::cli {

void AddQueryCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand(
      "query", "Run SQL in DuckDB with the storage config applied (read_parquet('s3://…'))");
  auto sql = std::make_shared<std::string>();
  cmd->add_option("sql", *sql, "The query")->required();
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto options, LoadStorageOptions(flags));
      ARROW_ASSIGN_OR_RAISE(auto db, duckdb::Database::Open({}));
      ARROW_RETURN_NOT_OK(db->ConfigureStorage(options));
      ARROW_ASSIGN_OR_RAISE(auto result, db->QueryText(*sql));
      if (flags.output == "json") {
        auto rows = nlohmann::json::array();
        for (const auto& row : result.rows) {
          nlohmann::json object = nlohmann::json::object();
          for (size_t c = 0; c < row.size(); ++c) {
            object[result.columns[c]] = row[c] ? nlohmann::json(*row[c]) : nlohmann::json();
          }
          rows.push_back(std::move(object));
        }
        std::cout << rows.dump() << "\n";
        return arrow::Status::OK();
      }
      // Tab-separated with a header: easy to read and to pipe.
      std::string line;
      for (size_t c = 0; c < result.columns.size(); ++c) {
        line += (c ? "\t" : "") + result.columns[c];
      }
      std::cout << line << "\n";
      for (const auto& row : result.rows) {
        line.clear();
        for (size_t c = 0; c < row.size(); ++c) {
          line += (c ? "\t" : "") + row[c].value_or("NULL");
        }
        std::cout << line << "\n";
      }
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
