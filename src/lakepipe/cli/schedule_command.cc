#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/common/shell_quote.h"

namespace lakepipe::cli {
namespace {

// cron turns an unescaped % in a command into a newline (the rest becomes stdin) and ends
// the entry at a newline, so % is escaped and newlines are refused.
std::string CronEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Lines lakepipe owns in the user's crontab end with this marker, naming the home folder,
// so install/remove touch only them (and only those of this home). sh reads it as a
// comment.
std::string Marker(const pipeline::Home& home) { return "# lakepipe:" + CronEscape(home.path()); }

arrow::Status OneLine(const std::string& what, const std::string& text) {
  if (text.find_first_of("\r\n") == std::string::npos) return arrow::Status::OK();
  return arrow::Status::Invalid(
      fmt::format("{} has a line break, which a crontab line cannot hold", what));
}

// The crontab lines of every pipeline with a schedule: each run under `flock -n`, so a
// run that lasts longer than the interval is skipped, not doubled. Every path and name is
// quoted for /bin/sh (a home such as "/home/ann/my lake" must stay one word).
arrow::Result<std::vector<std::string>> ScheduleLines(const GlobalFlags& flags) {
  using common::ShellQuote;
  const auto home = pipeline::Home::Resolve(flags.home);
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  ARROW_RETURN_NOT_OK(OneLine(fmt::format("home folder '{}'", home.path()), home.path()));
  ARROW_RETURN_NOT_OK(OneLine(fmt::format("the path '{}'", self), self));
  std::vector<std::string> lines;
  for (const auto& name : home.ListPipelines()) {
    ARROW_ASSIGN_OR_RAISE(auto config, LoadPipeline(flags, name));
    if (config.schedule_cron.empty()) continue;
    ARROW_RETURN_NOT_OK(OneLine(fmt::format("pipeline name '{}'", name), name));
    ARROW_RETURN_NOT_OK(
        OneLine(fmt::format("pipeline '{}': schedule.cron", name), config.schedule_cron));
    const std::string locks = home.LocksDir() + "/" + name;
    const std::string command = fmt::format(
        "flock -n {} {} --home {} run {} >> {} 2>&1", ShellQuote(locks + ".cron.lock"),
        ShellQuote(self), ShellQuote(home.path()), ShellQuote(name),
        ShellQuote(locks + ".cron.log"));
    lines.push_back(
        fmt::format("{} {} {}", config.schedule_cron, CronEscape(command), Marker(home)));
  }
  return lines;
}

arrow::Result<std::string> RunCapture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return arrow::Status::IOError(fmt::format("cannot run '{}'", command));
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  // `crontab -l` exits 1 when the user has no crontab yet: that is an empty one.
  if (status != 0 && command != "crontab -l 2>/dev/null") {
    return arrow::Status::IOError(fmt::format("'{}' failed", command));
  }
  return out;
}

// The current crontab without this home's lakepipe lines.
arrow::Result<std::string> ForeignLines(const pipeline::Home& home) {
  ARROW_ASSIGN_OR_RAISE(auto current, RunCapture("crontab -l 2>/dev/null"));
  std::stringstream in(current);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (!line.ends_with(Marker(home))) kept += line + "\n";
  }
  return kept;
}

arrow::Status WriteCrontab(const std::string& text) {
  FILE* pipe = ::popen("crontab -", "w");
  if (pipe == nullptr) return arrow::Status::IOError("cannot run 'crontab -' (is cron installed?)");
  fwrite(text.data(), 1, text.size(), pipe);
  if (::pclose(pipe) != 0) return arrow::Status::IOError("'crontab -' refused the new crontab");
  return arrow::Status::OK();
}

}  // namespace

void AddScheduleCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand("schedule", "Install, remove or list crontab lines of pipelines");
  auto action = std::make_shared<std::string>();
  cmd->add_option("action", *action, "install | remove | list")
      ->required()
      ->check(CLI::IsMember({"install", "remove", "list"}));
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      const auto home = pipeline::Home::Resolve(flags.home);
      if (*action == "list") {
        ARROW_ASSIGN_OR_RAISE(auto lines, ScheduleLines(flags));
        for (const auto& line : lines) std::cout << line << "\n";
        return arrow::Status::OK();
      }
      ARROW_ASSIGN_OR_RAISE(auto kept, ForeignLines(home));
      if (*action == "remove") {
        ARROW_RETURN_NOT_OK(WriteCrontab(kept));
        std::cout << "removed lakepipe's crontab lines for " << home.path() << "\n";
        return arrow::Status::OK();
      }
      ARROW_ASSIGN_OR_RAISE(auto lines, ScheduleLines(flags));
      // flock and the >> redirection need the folder before cron's first run.
      std::error_code ec;
      std::filesystem::create_directories(home.LocksDir(), ec);
      if (ec) {
        return arrow::Status::IOError(
            fmt::format("creating '{}': {}", home.LocksDir(), ec.message()));
      }
      for (const auto& line : lines) kept += line + "\n";
      ARROW_RETURN_NOT_OK(WriteCrontab(kept));
      std::cout << fmt::format("installed {} crontab line(s) for {}\n", lines.size(), home.path());
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
