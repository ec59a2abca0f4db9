#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/cli/commands.h"

namespace lakepipe::cli {
namespace {

std::atomic<bool> g_cancel{false};

void OnSignal(int) { g_cancel = true; }

}  // namespace

void AddCpCommand(CLI::App& app, const GlobalFlags& flags, CommandRun* run) {
  auto* cmd = app.add_subcommand(
      "cp", "Copy a file between any two backends; the destination appears whole or not at all");
  auto source = std::make_shared<std::string>();
  auto destination = std::make_shared<std::string>();
  cmd->add_option("source", *source, "File to copy (path, s3://, gs://, az://, abfs://)")
      ->required();
  cmd->add_option("destination", *destination,
                  "Destination file, or a folder ending in '/' to keep the name")
      ->required();
  cmd->callback([=, &flags] {
    *run = [=, &flags]() -> arrow::Status {
      ARROW_ASSIGN_OR_RAISE(auto src, storage::Uri::Parse(*source));
      ARROW_ASSIGN_OR_RAISE(auto dst, storage::Uri::Parse(*destination));
      if (destination->ends_with("/")) dst = dst.Join(src.Name());
      ARROW_ASSIGN_OR_RAISE(auto storage, OpenStorage(flags));
      const auto start = std::chrono::steady_clock::now();
      auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      };
      const bool draw = StderrIsTty() && flags.output != "json";
      int64_t copied = 0;
      auto progress = [&](int64_t done, int64_t total) {
        copied = done;
        if (!draw) return;
        const double rate = done / std::max(seconds(), 1e-3);
        std::cerr << fmt::format("\r  {} / {}  {}/s   ", HumanBytes(done), HumanBytes(total),
                                 HumanBytes(rate))
                  << std::flush;
      };
      // Ctrl-C / SIGTERM abort the upload instead of leaving a multipart upload or a
      // staging object behind (only SIGKILL can; see Storage::SweepStaleWrites).
      std::signal(SIGINT, OnSignal);
      std::signal(SIGTERM, OnSignal);
      auto status = storage->Copy(src, dst, progress, &g_cancel);
      if (draw) std::cerr << "\n";
      ARROW_RETURN_NOT_OK(status);
      if (flags.output == "json") {
        std::cout << nlohmann::json{{"source", src.ToString()},
                                    {"destination", dst.ToString()},
                                    {"bytes", copied},
                                    {"seconds", seconds()}}
                         .dump()
                  << "\n";
      } else {
        std::cout << fmt::format("copied {} to {} ({} in {:.2f} s)\n", src.ToString(),
                                 dst.ToString(), HumanBytes(copied), seconds());
      }
      return arrow::Status::OK();
    };
  });
}

}  // namespace lakepipe::cli
