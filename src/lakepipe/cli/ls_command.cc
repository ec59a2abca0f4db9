#include <chrono>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"

namespace lakepipe::cli {

void AddLsCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand("ls", "List files under a URI (any backend), with sizes");
  auto uri_text = std::make_shared<std::string>();
  auto recursive = std::make_shared<bool>(false);
  cmd->add_option("uri", *uri_text, "Folder, prefix or file: path, s3://, gs://, az://, abfs://")
      ->required();
  cmd->add_flag("-r,--recursive", *recursive, "List everything below, not only one level");
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto uri, storage::Uri::Parse(*uri_text));
      ARROW_ASSIGN_OR_RAISE(auto storage, OpenStorage(flags));
      ARROW_ASSIGN_OR_RAISE(auto entries, storage->List(uri, *recursive));
      if (flags.output == "json") {
        auto out = nlohmann::json::array();
        for (const auto& e : entries) {
          out.push_back(
              {{"uri", e.uri.ToString()},
               {"size", e.size},
               {"is_dir", e.is_dir},
               {"modified",
                fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(e.modified))}});
        }
        std::cout << out.dump() << "\n";
        return arrow::Status::OK();
      }
      for (const auto& e : entries) {
        if (e.is_dir) {
          std::cout << fmt::format("{:>14}  {:20}  {}/\n", "DIR", "", e.uri.ToString());
        } else {
          std::cout << fmt::format("{:>14}  {:%F %T}  {}\n", e.size,
                                   std::chrono::floor<std::chrono::seconds>(e.modified),
                                   e.uri.ToString());
        }
      }
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
