#include "lakepipe/flow/exec_process.h"

#include <thread>

#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/common/child_process.h"
#include "lakepipe/common/pipe_streams.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::flow {
namespace {

/// Reads the program's IPC stream, then waits for it: the table is good only when the
/// program also exits 0.
class ExecReader : public arrow::RecordBatchReader {
 public:
  ExecReader(std::unique_ptr<ChildProcess> process, std::shared_ptr<PipeInputStream> input,
             std::shared_ptr<arrow::ipc::RecordBatchStreamReader> ipc, std::thread feeder,
             std::shared_ptr<arrow::Status> feed_status)
      : name_(process->name()),
        process_(std::move(process)),
        input_(std::move(input)),
        ipc_(std::move(ipc)),
        feeder_(std::move(feeder)),
        feed_status_(std::move(feed_status)) {}

  ~ExecReader() override {
    if (process_) process_->Terminate();
    if (feeder_.joinable()) feeder_.join();
  }

  std::shared_ptr<arrow::Schema> schema() const override { return ipc_->schema(); }

  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    if (done_) {
      *batch = nullptr;
      return arrow::Status::OK();
    }
    auto status = ipc_->ReadNext(batch);
    if (!status.ok()) {
      process_->Terminate();
      (void)input_->Close();
      (void)process_->Wait();
      if (feeder_.joinable()) feeder_.join();
      process_.reset();
      return status.WithMessage(
          fmt::format("its output is not an Arrow IPC stream: {}", status.message()));
    }
    if (*batch) return arrow::Status::OK();
    done_ = true;
    (void)input_->Close();
    auto exit_status = process_->Wait();
    if (feeder_.joinable()) feeder_.join();
    process_.reset();
    ARROW_RETURN_NOT_OK(exit_status);
    return *feed_status_;
  }

 private:
  std::string name_;
  std::unique_ptr<ChildProcess> process_;
  std::shared_ptr<PipeInputStream> input_;  // the program's stdout, closed before Wait()
  std::shared_ptr<arrow::ipc::RecordBatchStreamReader> ipc_;
  std::thread feeder_;
  std::shared_ptr<arrow::Status> feed_status_;
  bool done_ = false;
};

arrow::Status Feed(const std::shared_ptr<PipeOutputStream>& sink,
                   arrow::RecordBatchReader* table) {
  ARROW_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeStreamWriter(sink, table->schema()));
  for (;;) {
    ARROW_ASSIGN_OR_RAISE(auto batch, table->Next());
    if (!batch) break;
    ARROW_RETURN_NOT_OK(writer->WriteRecordBatch(*batch));
  }
  ARROW_RETURN_NOT_OK(writer->Close());
  return sink->Close();
}

}  // namespace

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> StartExecProgram(const ExecLaunch& launch) {
  ChildLaunch child;
  child.redact = [](std::string_view line) { return storage::RedactSecrets(line); };
  child.argv = launch.argv;
  child.role = "program";
  child.working_dir = launch.working_dir;
  child.stdin_mode = launch.stdin_table ? ChildStdio::kPipe : ChildStdio::kNull;
  child.stdout_mode = ChildStdio::kPipe;
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& [name, files] : launch.input_files) inputs[name] = files;
  child.env = launch.env;
  child.env["LAKEPIPE_INPUTS"] = inputs.dump();
  ARROW_ASSIGN_OR_RAISE(auto process, ChildProcess::Start(child));
  auto feed_status = std::make_shared<arrow::Status>();
  std::thread feeder;
  if (launch.stdin_table) {
    auto sink = std::make_shared<PipeOutputStream>(process->TakeStdin().release());
    feeder = std::thread([sink, table = launch.stdin_table, feed_status] {
      auto status = Feed(sink, table.get());
      // A program that exits early (or never reads stdin) closes the pipe: its exit
      // status tells what happened, not EPIPE.
      if (!status.ok() && !status.IsIOError()) *feed_status = status;
    });
  }
  auto input = std::make_shared<PipeInputStream>(process->TakeStdout().release());
  auto ipc = arrow::ipc::RecordBatchStreamReader::Open(input);
  if (!ipc.ok()) {
    (void)input->Close();
    process->Terminate();
    auto exit_status = process->Wait();
    if (feeder.joinable()) feeder.join();
    if (!exit_status.ok()) return exit_status;
    return ipc.status().WithMessage(
        fmt::format("program '{}': its output is not an Arrow IPC "
                    "stream: {}",
                    process->name(), ipc.status().message()));
  }
  return std::make_shared<ExecReader>(std::move(process), std::move(input), std::move(*ipc),
                                      std::move(feeder), std::move(feed_status));
}

}  // namespace lakepipe::flow
