#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"
#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/pipeline/pipeline_run.h"

namespace lakepipe::cli {

void AddDemoCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand(
      "demo", "Run the built-in demo pipeline: a generated orders table into a bucket");
  auto bucket = std::make_shared<std::string>("./lake");
  auto rows = std::make_shared<int64_t>(100'000);
  cmd->add_option("bucket", *bucket, "Bucket or folder to write into")->capture_default_str();
  cmd->add_option("--rows", *rows, "Rows to generate")->capture_default_str();
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto root, storage::Uri::Parse(*bucket));
      pipeline::PipelineConfig config;
      config.name = "demo";
      config.file = "(built-in demo)";
      config.source.reader = "demo";
      config.source.options["rows"] = std::to_string(*rows);
      config.destinations.push_back({});
      config.destinations.back().bucket = root.ToString();
      ARROW_ASSIGN_OR_RAISE(config.storage, LoadStorageOptions(flags));
      ARROW_ASSIGN_OR_RAISE(
          auto run, pipeline::RunPipelineLocked(config, pipeline::Home::Resolve(flags.home), {}));
      const auto& result = run.result;
      const lake::TableEntry* entry = run.FindTable("orders");
      if (!entry) return arrow::Status::Invalid("the demo pipeline committed no orders table");
      if (entry->files.empty()) {  // --rows 0: no file to point at
        std::cout << (flags.output == "json"
                          ? nlohmann::json{{"uri", nullptr}, {"rows", result.total_records}}.dump()
                          : fmt::format("wrote {} rows", result.total_records))
                  << "\n";
        return arrow::Status::OK();
      }
      const auto file = root.Join(entry->files.front().path);
      const std::string where = file.is_local() ? file.key() : file.ToString();
      if (flags.output == "json") {
        std::cout << nlohmann::json{{"uri", file.ToString()}, {"rows", result.total_records}}.dump()
                  << "\n";
        return arrow::Status::OK();
      }
      std::cout << fmt::format("wrote {} rows to {}\n", result.total_records, where);
      std::cout << fmt::format("manifest: {}\n", lake::BucketLayout(root).ManifestUri().ToString());
      std::cout << fmt::format(
          "query it:  build/lakepipe query \"SELECT status, count(*), sum(amount) FROM "
          "read_parquet('{}') GROUP BY ALL ORDER BY ALL\"\n",
          where);
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
