#pragma once

#include <arrow/status.h>
#include <CLI/CLI.hpp>

#include "lakepipe/cli/cli_context.h"

namespace lakepipe::cli {

/// A registered command runs through this: it is called after parsing succeeded.
using CommandRun = std::function<arrow::Status()>;

/// Each Add* registers one subcommand on `app` and stores its action in `*run` when the
/// subcommand is chosen. One file per command.
void AddLsCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddCpCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddQueryCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddDemoCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddInitCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddAddCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddValidateCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddRunCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddStatusCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddLogsCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddManifestCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddScheduleCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddFlowCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddSqlCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);
void AddConfigCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run);

}  // namespace lakepipe::cli
