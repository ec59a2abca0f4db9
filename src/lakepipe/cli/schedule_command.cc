#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "lakepipe/cli/commands.h"

namespace lakepipe::cli {
namespace {

// Lines lakepipe owns in the user's crontab end with this marker, naming the home folder,
// so install/remove touch only them (and only those of this home).
std::string Marker(const pipeline::Home& home) { return "# lakepipe:" + home.path(); }

// The crontab lines of every pipeline with a schedule: each run under `flock -n`, so a
// run that lasts longer than the interval is skipped, not doubled.
arrow::Result<std::vector<std::string>> ScheduleLines(const GlobalFlags& flags) {
  const auto home = pipeline::Home::Resolve(flags.home);
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  std::vector<std::string> lines;
  for (const auto& name : home.ListPipelines()) {
    ARROW_ASSIGN_OR_RAISE(auto config, LoadPipeline(flags, name));
    if (config.schedule_cron.empty()) continue;
    lines.push_back(
        fmt::format("{} flock -n {}/{}.cron.lock {} --home {} run {} >> {}/{}.cron.log 2>&1 {}",
                    config.schedule_cron, home.LocksDir(), name, self, home.path(), name,
                    home.LocksDir(), name, Marker(home)));
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
      for (const auto& line : lines) kept += line + "\n";
      ARROW_RETURN_NOT_OK(WriteCrontab(kept));
      std::cout << fmt::format("installed {} crontab line(s) for {}\n", lines.size(), home.path());
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
