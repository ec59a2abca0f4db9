#include "lakepipe/sources/demo_ingest_source.h"

#include "lakepipe/sources/demo_source.h"

namespace lakepipe::sources {

arrow::Status DemoIngestSource::Run(IngestSink* sink) {
  ARROW_ASSIGN_OR_RAISE(auto reader, MakeDemoOrders(rows_));
  ARROW_RETURN_NOT_OK(sink->OnSchema(stream_, reader->schema()));
  for (;;) {
    if (cancelled_) return arrow::Status::Cancelled("run cancelled");
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (!batch) return arrow::Status::OK();
    ARROW_RETURN_NOT_OK(sink->OnBatch(stream_, batch));
  }
}

}  // namespace lakepipe::sources
