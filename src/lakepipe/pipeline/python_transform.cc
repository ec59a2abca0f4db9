#include "lakepipe/pipeline/python_transform.h"

#include <cstdlib>

#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <fmt/format.h>

#include "lakepipe/common/pipe_streams.h"
#include "lakepipe/common/child_process.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::pipeline {
namespace {

// The worker's results go back on their own descriptor, not stdout, where a transform's
// print() goes (to our stderr): a print would corrupt the stream or, before the first
// read, leave both sides waiting for each other.
constexpr int kResultFd = 3;

// The worker: loads the script once, then turns each IPC stream on stdin into one on the
// descriptor LAKEPIPE_IPC_FD names.
constexpr const char* kWorker = R"PY(
import importlib.util, os, sys
import pyarrow as pa
sink = os.fdopen(int(os.environ["LAKEPIPE_IPC_FD"]), "wb")
spec = importlib.util.spec_from_file_location("lakepipe_transform", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
if not hasattr(module, "transform"):
    sys.exit(f"{sys.argv[1]} defines no transform(df)")
source = sys.stdin.buffer
while True:
    try:
        table = pa.ipc.open_stream(source).read_all()
    except (pa.ArrowInvalid, EOFError):
        break
    frame = module.transform(table.to_pandas())
    if frame is None:
        sys.exit("transform(df) returned None")
    result = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.ipc.new_stream(sink, result.schema) as writer:
        writer.write_table(result)
    sink.flush()
)PY";

}  // namespace

arrow::Result<std::unique_ptr<PythonTransform>> PythonTransform::Start(const std::string& script) {
  std::unique_ptr<PythonTransform> transform(new PythonTransform());
  transform->script_ = script;
  const char* python = std::getenv("LAKEPIPE_PYTHON");
  ChildLaunch launch;
  launch.redact = [](std::string_view line) { return storage::RedactSecrets(line); };
  launch.argv = {python && *python ? python : "python3", "-c", kWorker, script};
  launch.role = "transform worker";
  launch.stdin_mode = ChildStdio::kPipe;
  // What the transform prints is for people: on our stderr, never in the result stream.
  launch.stdout_mode = ChildStdio::kOurStderr;
  launch.ipc_fd = kResultFd;
  launch.env = {{"LAKEPIPE_IPC_FD", std::to_string(kResultFd)}, {"PYTHONUNBUFFERED", "1"}};
  ARROW_ASSIGN_OR_RAISE(transform->worker_, ChildProcess::Start(launch));
  transform->to_worker_ =
      std::make_shared<PipeOutputStream>(transform->worker_->TakeStdin().release());
  transform->from_worker_ =
      std::make_shared<PipeInputStream>(transform->worker_->TakeIpc().release());
  return transform;
}

PythonTransform::~PythonTransform() {
  if (worker_) (void)Finish();
}

arrow::Status PythonTransform::Failed(const arrow::Status& cause) {
  // The worker's own error (its traceback) says more than the broken pipe we saw.
  (void)to_worker_->Close();
  (void)from_worker_->Close();  // a worker still writing results must not block its exit
  auto exit_status = worker_->Wait();
  worker_.reset();
  const auto& why = exit_status.ok() ? cause : exit_status;
  return arrow::Status::Invalid(fmt::format("python transform: {}", why.message()));
}

arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> PythonTransform::Apply(
    const std::shared_ptr<arrow::RecordBatch>& batch) {
  if (!worker_)
    return arrow::Status::Invalid(fmt::format("python transform '{}' has stopped", script_));
  auto sent = [&]() -> arrow::Status {
    ARROW_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeStreamWriter(to_worker_, batch->schema()));
    ARROW_RETURN_NOT_OK(writer->WriteRecordBatch(*batch));
    ARROW_RETURN_NOT_OK(writer->Close());  // the end-of-stream marker, not the pipe
    return to_worker_->Flush();
  }();
  if (!sent.ok()) return Failed(sent);
  auto received = [&]() -> arrow::Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> {
    ARROW_ASSIGN_OR_RAISE(auto reader, arrow::ipc::RecordBatchStreamReader::Open(from_worker_));
    std::vector<std::shared_ptr<arrow::RecordBatch>> out;
    for (;;) {
      std::shared_ptr<arrow::RecordBatch> next;
      ARROW_RETURN_NOT_OK(reader->ReadNext(&next));
      if (!next) return out;
      if (next->num_rows() > 0) out.push_back(std::move(next));
    }
  }();
  if (!received.ok()) return Failed(received.status());
  return received;
}

arrow::Status PythonTransform::Finish() {
  if (!worker_) return arrow::Status::OK();
  (void)to_worker_->Close();  // EOF on the worker's stdin ends its loop
  (void)from_worker_->Close();
  auto status = worker_->Wait();
  worker_.reset();
  if (!status.ok()) {
    return arrow::Status::Invalid(fmt::format("python transform: {}", status.message()));
  }
  return arrow::Status::OK();
}

}  // namespace lakepipe::pipeline
