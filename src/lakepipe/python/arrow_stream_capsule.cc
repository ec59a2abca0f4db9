#include "lakepipe/python/arrow_stream_capsule.h"

#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>

#include "lakepipe/python/python_errors.h"

namespace nb = nanobind;

namespace lakepipe::python {
namespace {

void ReleaseStreamCapsule(void* pointer) noexcept {
  auto* stream = static_cast<ArrowArrayStream*>(pointer);
  if (stream->release != nullptr) stream->release(stream);
  delete stream;
}

class KeepAliveReader : public arrow::RecordBatchReader {
 public:
  KeepAliveReader(std::shared_ptr<arrow::RecordBatchReader> reader, std::shared_ptr<void> owner)
      : owner_(std::move(owner)), reader_(std::move(reader)) {}
  std::shared_ptr<arrow::Schema> schema() const override { return reader_->schema(); }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    return reader_->ReadNext(batch);
  }
  arrow::Status Close() override { return reader_->Close(); }

 private:
  // Members are destroyed last to first: the reader goes before what it reads from.
  std::shared_ptr<void> owner_;
  std::shared_ptr<arrow::RecordBatchReader> reader_;
};

}  // namespace

nb::capsule ExportStream(std::shared_ptr<arrow::RecordBatchReader> reader) {
  auto stream = std::make_unique<ArrowArrayStream>();
  ThrowIfError(arrow::ExportRecordBatchReader(std::move(reader), stream.get()));
  return nb::capsule(stream.release(), "arrow_array_stream", &ReleaseStreamCapsule);
}

std::shared_ptr<arrow::RecordBatchReader> KeepingAlive(
    std::shared_ptr<arrow::RecordBatchReader> reader, std::shared_ptr<void> owner) {
  return std::make_shared<KeepAliveReader>(std::move(reader), std::move(owner));
}

}  // namespace lakepipe::python
