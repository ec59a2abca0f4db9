#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/common/child_process.h"
#include "lakepipe/common/unique_fd.h"

namespace lakepipe::singer {

/// How to start a Singer tap.
struct TapLaunch {
  /// The tap's command line; argv[0] is looked up on PATH when it has no '/'.
  std::vector<std::string> argv;
  /// Written to a private temp file (0600 in a 0700 folder under $TMPDIR, see
  /// MakeTapTempDir) passed as --config; the file is removed when the TapProcess is
  /// destroyed, and by a later run when we die before that. Never logged.
  std::optional<nlohmann::json> config;
  /// Passed as --state when present.
  std::optional<nlohmann::json> state;
  /// Passed as --catalog when present, in its own key order.
  std::optional<nlohmann::ordered_json> catalog;
  /// Extra arguments after the standard ones (e.g. --discover).
  std::vector<std::string> extra_args;
  /// See ChildLaunch::timeout_seconds; 0 = never.
  double timeout_seconds = 0;
};

/// A running tap (a ChildProcess with stdin on /dev/null): the caller reads its Singer
/// messages from stdout_fd(). Destruction stops the tap if it still runs and removes its
/// --config/--state/--catalog files.
class TapProcess {
 public:
  static arrow::Result<std::unique_ptr<TapProcess>> Start(const TapLaunch& launch);
  ~TapProcess();

  int stdout_fd() const { return stdout_.get(); }
  /// The tap's name for messages (argv[0]'s base name, or the script for "python x.py").
  const std::string& name() const { return process_->name(); }
  /// Its stderr, Terminate(), ExitsWithin(): see ChildProcess.
  ChildProcess& process() { return *process_; }
  /// Closes stdout (a tap still writing then stops rather than blocking) and waits.
  arrow::Status Wait() {
    stdout_.reset();
    return process_->Wait();
  }

 private:
  TapProcess() = default;

  std::string temp_dir_;
  std::unique_ptr<ChildProcess> process_;
  UniqueFd stdout_;
};

}  // namespace lakepipe::singer
