#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <arrow/record_batch.h>
#include <arrow/result.h>

namespace lakepipe::flow {

/// A program producing a table: it writes one Arrow IPC stream on stdout. Its inputs are
/// given as Parquet files (LAKEPIPE_INPUTS: a JSON object {"stage.table": [path or URI,
/// …]}) and, when `stdin_table` is set, as an Arrow IPC stream on stdin. It runs in the
/// flow file's folder; stderr is kept for the error message.
struct ExecLaunch {
  std::vector<std::string> argv;
  std::string working_dir;
  std::map<std::string, std::vector<std::string>> input_files;
  std::shared_ptr<arrow::RecordBatchReader> stdin_table;
  /// Set in the program's environment on top of ours (the flow's storage settings, see
  /// storage::StorageEnvironment).
  std::map<std::string, std::string> env;
};

/// Starts the program; the reader yields its batches, and reports a non-zero exit, a
/// stream that is not Arrow IPC, or a failure to feed stdin, once the stream ends.
arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> StartExecProgram(const ExecLaunch& launch);

}  // namespace lakepipe::flow
