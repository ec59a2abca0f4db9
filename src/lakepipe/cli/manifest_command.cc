#include <iostream>

#include <fmt/format.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/lake/manifest_store.h"

namespace lakepipe::cli {

void AddManifestCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand("manifest", "Tables a bucket's manifest lists");
  auto bucket = std::make_shared<std::string>();
  cmd->add_option("bucket", *bucket, "Bucket (path, s3://, gs://, az://)")->required();
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto root, storage::Uri::Parse(*bucket));
      ARROW_ASSIGN_OR_RAISE(auto storage, OpenStorage(flags));
      lake::ManifestStore store(storage.get(), lake::BucketLayout(root));
      ARROW_ASSIGN_OR_RAISE(auto manifest, store.LoadManifest());
      if (flags.output == "json") {
        std::cout << manifest.dump(2) << "\n";
        return arrow::Status::OK();
      }
      for (const auto& [key, table] : manifest["tables"].items()) {
        const auto& stats = table.value("stats", nlohmann::json::object());
        std::cout << fmt::format("{:<40} {:>12} rows  {:>4} extractions  {}\n", key,
                                 stats.value("total_rows", 0), stats.value("extractions", 0),
                                 table.value("location", ""));
      }
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
