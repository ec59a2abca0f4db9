#include "lakepipe/storage/hung_call_watchdog.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace lakepipe::storage {
namespace {

using std::chrono::duration;
using namespace std::chrono_literals;

TEST(HungCallWatchdogTest, CallsThatEndInTimeLetTheProcessRun) {
  HungCallWatchdog watchdog(duration<double>(0.2));
  for (int i = 0; i < 5; ++i) {
    auto watch = watchdog.Start("reading 's3://bucket/key'");
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(400ms);  // long past the limit, with no call running
  SUCCEED();
}

TEST(HungCallWatchdogDeathTest, AHungCallStopsTheProcessNamingIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        HungCallWatchdog watchdog(duration<double>(0.2));
        auto done = watchdog.Start("listing 'gs://bucket/done'");
        {
          auto finished = watchdog.Start("reading 'gs://bucket/finished'");
        }
        auto hung = watchdog.Start("writing 'gs://bucket/hung.parquet'");
        std::this_thread::sleep_for(10s);
      },
      testing::ExitedWithCode(1),
      "lakepipe: error: (listing 'gs://bucket/done'|writing 'gs://bucket/hung.parquet'): no "
      "answer from the store in 0 s; the run stops here");
}

}  // namespace
}  // namespace lakepipe::storage
