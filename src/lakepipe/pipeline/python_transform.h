#pragma once

#include <memory>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/result.h>

namespace lakepipe {
class ChildProcess;
class PipeInputStream;
class PipeOutputStream;
}  // namespace lakepipe

namespace lakepipe::pipeline {

/// DataSpoc Pipe's transform convention: `$LAKEPIPE_HOME/transforms/<pipeline>.py` defines
/// `transform(df)` (a pandas DataFrame in, one out). One long-lived Python worker per run
/// loads the file once; each batch goes to it as an Arrow IPC stream on its stdin and comes
/// back the same way on descriptor 3 (LAKEPIPE_IPC_FD); what the transform prints on its
/// stdout goes to our stderr. The interpreter is $LAKEPIPE_PYTHON, else `python3`
/// (it needs pyarrow and pandas). A failing transform fails the run, with the last lines
/// of its traceback: untransformed data is never written. Not thread-safe.
class PythonTransform {
 public:
  static arrow::Result<std::unique_ptr<PythonTransform>> Start(const std::string& script);
  ~PythonTransform();

  /// The transformed batch(es); an empty DataFrame gives no batch.
  arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> Apply(
      const std::shared_ptr<arrow::RecordBatch>& batch);

  /// Ends the worker; returns its error if it failed.
  arrow::Status Finish();

  const std::string& script() const { return script_; }

 private:
  PythonTransform() = default;
  arrow::Status Failed(const arrow::Status& cause);

  std::string script_;
  std::unique_ptr<ChildProcess> worker_;
  std::shared_ptr<PipeOutputStream> to_worker_;
  std::shared_ptr<PipeInputStream> from_worker_;
};

}  // namespace lakepipe::pipeline
