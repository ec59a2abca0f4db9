#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"
#include "lakepipe/parquet/parquet_file_writer.h"
#include "lakepipe/sources/demo_source.h"

namespace lakepipe::cli {

void AddDemoCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand(
      "demo", "Write a generated orders table as Parquet into a bucket (default ./lake)");
  auto bucket = std::make_shared<std::string>("./lake");
  auto rows = std::make_shared<int64_t>(100'000);
  cmd->add_option("bucket", *bucket, "Bucket or folder to write into")->capture_default_str();
  cmd->add_option("--rows", *rows, "Rows to generate")->capture_default_str();
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto root, storage::Uri::Parse(*bucket));
      ARROW_ASSIGN_OR_RAISE(auto storage, OpenStorage(flags));
      const auto file = root.Join("raw/demo/orders/orders_0000.parquet");
      ARROW_ASSIGN_OR_RAISE(auto reader, sources::MakeDemoOrders(*rows));
      ARROW_ASSIGN_OR_RAISE(auto written, parquet::WriteParquetFile(*storage, file, *reader));
      const std::string where = file.is_local() ? file.key() : file.ToString();
      if (flags.output == "json") {
        std::cout << nlohmann::json{{"uri", file.ToString()}, {"rows", written}}.dump() << "\n";
        return arrow::Status::OK();
      }
      std::cout << fmt::format("wrote {} rows to {}\n", written, where);
      std::cout << fmt::format(
          "query it:  build/lakepipe query \"SELECT status, count(*), sum(amount) FROM "
          "read_parquet('{}') GROUP BY ALL ORDER BY ALL\"\n",
          where);
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
