// lakepipe command line: parses flags, runs one command, maps its Status to an exit code.
//
// Exit codes: 0 success; 1 the command failed (one line on stderr); 2 usage error;
// 130 cancelled by Ctrl-C / SIGTERM (nothing committed). An exception (out of memory, a
// bug) is the last resort, caught here so it too ends in one line and exit code 1.

#include <malloc.h>

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "lakepipe/cli/commands.h"
#include "lakepipe/common/build_config.h"
#include "lakepipe/common/console_log.h"
#include "lakepipe/common/crash_point.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/storage/redact.h"
#include "lakepipe/storage/runtime.h"

#include <arrow/util/config.h>

namespace {

// The subcommand being run, for the message of an exception; "lakepipe" before parsing.
std::string g_command = "lakepipe";

// What an exception says, in the one error line.
std::string Describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::bad_alloc&) {
    return fmt::format("'{}' ran out of memory (std::bad_alloc)", g_command);
  } catch (const std::exception& e) {
    return fmt::format("'{}' failed unexpectedly: {}", g_command, e.what());
  } catch (...) {
    return fmt::format("'{}' failed unexpectedly (unknown exception)", g_command);
  }
}

// An exception escaping a worker thread calls std::terminate, which would abort with a
// core dump and no message. Say what failed instead; what the run wrote is recovered by
// the next run, as after a crash.
[[noreturn]] void OnTerminate() {
  const auto error = std::current_exception();
  const std::string line =
      "lakepipe: error: " +
      (error ? Describe(error) : fmt::format("'{}' stopped: internal error", g_command)) + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(1);
}

int Main(int argc, char** argv) {
  using namespace lakepipe;
  // Memory: Arrow's default pool in the pyarrow wheel is mimalloc, which returns freed
  // batches to the OS and faults them back in (zeroing huge pages) for every batch. The
  // system allocator was faster on 1M Singer records and peaked at 192 MB instead of
  // 281 MB, but glibc's adaptive mmap threshold then keeps freed multi-MB buffers on the
  // heap, so a 200 MB `cp` grew with the file. A fixed 4 MiB threshold returns big buffers
  // at once: 173 MB for the 1M records and flat memory for any copy. Users can still pick
  // a pool with ARROW_DEFAULT_MEMORY_POOL.
  ::setenv("ARROW_DEFAULT_MEMORY_POOL", "system", /*overwrite=*/0);
  ::mallopt(M_MMAP_THRESHOLD, 4 << 20);
  CLI::App app{"lakepipe: land data as Parquet in any bucket and keep it cataloged"};
  app.require_subcommand(1);
  app.set_version_flag(
      "--version", fmt::format("lakepipe {} (Arrow {}, DuckDB {})", kVersion, ARROW_VERSION_STRING,
                               duckdb::Database::LibraryVersion()));
  cli::GlobalFlags flags;
  app.add_option("--storage", flags.storage_file,
                 "YAML file with a storage block (endpoint, region, url_style, ...)")
      ->envname("LAKEPIPE_STORAGE");
  app.add_option("--output", flags.output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_flag("-v,--verbose", flags.verbose,
               "Tell on stderr what the run does (-v: files written, retries, cache decisions; "
               "-vv: every call to the store, locks taken)");
  app.add_option("--home", flags.home, "Home folder with pipelines/ (default ~/.lakepipe)")
      ->envname("LAKEPIPE_HOME");

  cli::CommandRun run;
  cli::AddLsCommand(app, flags, &run);
  cli::AddCpCommand(app, flags, &run);
  cli::AddQueryCommand(app, flags, &run);
  cli::AddDemoCommand(app, flags, &run);
  cli::AddInitCommand(app, flags, &run);
  cli::AddAddCommand(app, flags, &run);
  cli::AddConfigCommand(app, flags, &run);
  cli::AddValidateCommand(app, flags, &run);
  cli::AddRunCommand(app, flags, &run);
  cli::AddStatusCommand(app, flags, &run);
  cli::AddLogsCommand(app, flags, &run);
  cli::AddManifestCommand(app, flags, &run);
  cli::AddScheduleCommand(app, flags, &run);
  cli::AddFlowCommand(app, flags, &run);
  cli::AddSqlCommand(app, flags, &run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int cli_code = app.exit(e);  // prints help, version or the usage error
    return cli_code == 0 ? 0 : 2;
  }
  for (const auto* sub = &app; !sub->get_subcommands().empty();) {
    sub = sub->get_subcommands().front();
    g_command = g_command == "lakepipe" ? sub->get_name() : g_command + " " + sub->get_name();
  }
  ConfigureConsoleLog(flags.verbose);

  int code = 0;
  {
    storage::ArrowRuntime runtime;  // finalizes the S3 SDK before exit
    arrow::Status status = storage::ArrowRuntime::Initialize();
    ThrowPoint("before-command");
    if (status.ok()) status = run();
    if (!status.ok()) {
      // Every layer redacts its own errors; this is the last net before the console.
      std::cerr << "lakepipe: error: " << storage::RedactSecrets(status.message()) << "\n";
      code = status.IsCancelled() ? 130 : 1;
    }
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::set_terminate(OnTerminate);
  try {
    return Main(argc, argv);
  } catch (...) {
    std::cerr << "lakepipe: error: " << Describe(std::current_exception()) << "\n";
    return 1;
  }
}
