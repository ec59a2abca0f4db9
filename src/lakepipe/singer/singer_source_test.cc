#include "lakepipe/singer/singer_source.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace lakepipe::singer {
namespace {

class NullSink : public sources::IngestSink {
 public:
  arrow::Status OnSchema(const std::string&, const std::shared_ptr<arrow::Schema>&) override {
    return arrow::Status::OK();
  }
  arrow::Status OnBatch(const std::string&, const std::shared_ptr<arrow::RecordBatch>&) override {
    return arrow::Status::OK();
  }
  arrow::Status OnState(const nlohmann::json&) override { return arrow::Status::OK(); }
};

// Found by `make test-asan` (tests/e2e/test_ingest_errors.py, SIGTERM to a run whose tap is
// quiet): Cancel() on the watcher thread was still in TapProcess::Terminate() when Run()
// saw the tap exit and freed it (heap-use-after-free). Under ASan this fails when it races.
TEST(SingerSourceTest, CancelStopsAQuietTapAndRunReturnsCancelled) {
  for (int i = 0; i < 5; ++i) {
    SingerSource source(SingerSourceOptions{.tap_argv = {"/bin/sh", "-c", "sleep 30"}});
    NullSink sink;
    arrow::Status status;
    std::thread run([&] { status = source.Run(&sink); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto start = std::chrono::steady_clock::now();
    source.Cancel();
    run.join();
    EXPECT_TRUE(status.IsCancelled()) << status.ToString();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  }
}

}  // namespace
}  // namespace lakepipe::singer
