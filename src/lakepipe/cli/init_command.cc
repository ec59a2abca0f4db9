#include <iostream>

#include <fmt/format.h>

#include "lakepipe/cli/commands.h"

namespace lakepipe::cli {

void AddInitCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand("init", "Create the home folder (pipelines, sources, transforms)");
  cmd->callback([=, &flags] {
    *run = [&flags]() -> arrow::Status {
      const auto home = pipeline::Home::Resolve(flags.home);
      ARROW_ASSIGN_OR_RAISE(auto created, home.Initialize());
      std::cout << fmt::format("lakepipe home: {}\n", home.path());
      for (const auto& dir : created) std::cout << fmt::format("  created {}\n", dir);
      std::cout << "next: lakepipe add NAME --tap tap-x --bucket s3://lake (or --reader csv)\n";
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
