#pragma once

#include <atomic>
#include <string>

#include "lakepipe/sources/ingest_source.h"

namespace lakepipe::sources {

/// The built-in `demo` reader: MakeDemoOrders as one stream (default "orders").
class DemoIngestSource : public IngestSource {
 public:
  DemoIngestSource(std::string stream, int64_t rows) : stream_(std::move(stream)), rows_(rows) {}
  arrow::Status Run(IngestSink* sink) override;
  void Cancel() override { cancelled_ = true; }

 private:
  std::string stream_;
  int64_t rows_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace lakepipe::sources
