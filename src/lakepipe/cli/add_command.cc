#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/sources/file_formats.h"

namespace lakepipe::cli {
namespace {

struct AddFlags {
  std::string tap;
  std::string config;
  std::string reader;
  std::string uri;
  std::string stream;
  std::vector<std::string> streams;
  std::string bucket;
  std::string path = "raw";
  std::string compression = "zstd";
  bool incremental = false;
  std::string cron;
  bool force = false;
};

// On a terminal, asks for what the flags left out (the wizard); elsewhere they are errors.
std::string Ask(const std::string& question, const std::string& fallback) {
  std::cerr << question << (fallback.empty() ? "" : " [" + fallback + "]") << ": " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer.empty() ? fallback : answer;
}

std::string PipelineYaml(const AddFlags& f) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "source" << YAML::Value << YAML::BeginMap;
  if (!f.tap.empty()) {
    out << YAML::Key << "tap" << YAML::Value << f.tap;
    if (!f.config.empty()) out << YAML::Key << "config" << YAML::Value << f.config;
    if (!f.streams.empty()) out << YAML::Key << "streams" << YAML::Value << YAML::Flow << f.streams;
  } else {
    out << YAML::Key << "reader" << YAML::Value << f.reader;
    if (!f.uri.empty()) out << YAML::Key << "uri" << YAML::Value << f.uri;
    if (!f.stream.empty()) out << YAML::Key << "stream" << YAML::Value << f.stream;
  }
  out << YAML::EndMap;
  out << YAML::Key << "destination" << YAML::Value << YAML::BeginMap << YAML::Key << "bucket"
      << YAML::Value << f.bucket << YAML::Key << "path" << YAML::Value << f.path << YAML::Key
      << "compression" << YAML::Value << f.compression << YAML::EndMap;
  out << YAML::Key << "incremental" << YAML::Value << YAML::BeginMap << YAML::Key << "enabled"
      << YAML::Value << f.incremental << YAML::EndMap;
  if (!f.cron.empty()) {
    out << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap << YAML::Key << "cron"
        << YAML::Value << f.cron << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

// The readers `add` offers: the file formats and the demo (postgres needs options `add`
// does not ask for).
std::vector<std::string> AddableReaders() {
  std::vector<std::string> readers;
  for (const auto& format : sources::FileFormats()) readers.emplace_back(format.name);
  readers.emplace_back("demo");
  return readers;
}

}  // namespace

void AddAddCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd =
      app.add_subcommand("add", "Create a pipeline file (asks for missing answers on a terminal)");
  auto name = std::make_shared<std::string>();
  auto f = std::make_shared<AddFlags>();
  cmd->add_option("name", *name, "Pipeline name")->required();
  cmd->add_option("--tap", f->tap, "Singer tap command (e.g. tap-postgres)");
  cmd->add_option("--config", f->config, "Tap config file (relative to the home folder)");
  cmd->add_option("--streams", f->streams, "Streams to select")->delimiter(',');
  cmd->add_option("--reader", f->reader, "Built-in reader instead of a tap")
      ->check(CLI::IsMember(AddableReaders()));
  cmd->add_option("--uri", f->uri, "Reader input (URI or glob)");
  cmd->add_option("--stream", f->stream, "Reader output stream (table) name");
  cmd->add_option("--bucket", f->bucket, "Destination bucket (path, s3://, gs://, az://)");
  cmd->add_option("--path", f->path, "Folder inside the bucket")->capture_default_str();
  cmd->add_option("--compression", f->compression, "zstd | snappy | gzip | none")
      ->capture_default_str();
  cmd->add_flag("--incremental", f->incremental, "Append by bookmark into dt= partitions");
  cmd->add_option("--cron", f->cron, "Schedule (crontab expression)");
  cmd->add_flag("--force", f->force, "Overwrite an existing pipeline file");
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      const bool interactive = ::isatty(STDIN_FILENO) && ::isatty(STDERR_FILENO);
      if (f->tap.empty() && f->reader.empty()) {
        if (!interactive) return arrow::Status::Invalid("add: give --tap or --reader");
        f->tap = Ask("Singer tap command (empty for a built-in reader)", "");
        if (f->tap.empty()) {
          f->reader = Ask(fmt::format("Built-in reader ({})", fmt::join(AddableReaders(), ", ")),
                          "csv");
        }
      }
      if (!f->reader.empty() && f->reader != "demo" && f->uri.empty()) {
        if (!interactive) return arrow::Status::Invalid("add: reader needs --uri");
        f->uri = Ask("Input URI or glob", "");
      }
      if (f->bucket.empty()) {
        if (!interactive) return arrow::Status::Invalid("add: give --bucket");
        f->bucket = Ask("Destination bucket", "./lake");
      }
      const auto home = pipeline::Home::Resolve(flags.home);
      ARROW_RETURN_NOT_OK(home.Initialize().status());
      const std::string file = home.PipelinesDir() + "/" + *name + ".yaml";
      if (std::filesystem::exists(file) && !f->force) {
        return arrow::Status::Invalid(
            fmt::format("pipeline '{}' exists ('{}'); use --force to replace it", *name, file));
      }
      const std::string text = PipelineYaml(*f);
      // Check it loads before writing it, so `add` never leaves a broken file.
      ARROW_RETURN_NOT_OK(pipeline::ParsePipelineYaml(text, *name, file, home.path()).status());
      std::ofstream(file) << text;
      std::cout << fmt::format("wrote {}\nrun it:  lakepipe run {}\n", file, *name);
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
