#include "lakepipe/tablestore/slot_retention.h"

#include <gtest/gtest.h>

namespace lakepipe::tablestore {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const SystemTime kNow = SystemTime(seconds(1'800'000'000));

TEST(SlotRetentionTest, TheLiveSlotKeepsItsFilesAndLosesStrays) {
  SlotFolder folder;
  folder.files = {"f/s__odd/t/part-a-0000.parquet", "f/s__odd/t/part-b-0000.parquet"};
  folder.live = {"f/s__odd/t/part-a-0000.parquet"};
  const auto plan = PlanSlotCleanup("f/s__odd", folder, kNow, minutes(60), "id");
  EXPECT_FALSE(plan.keep);
  EXPECT_EQ(plan.remove, std::vector<std::string>{"f/s__odd/t/part-b-0000.parquet"});
}

TEST(SlotRetentionTest, ThePreviousGenerationStaysWithAMarkerWhileTheGraceLasts) {
  SlotFolder folder;
  folder.files = {"f/s__odd/t/part-a-0000.parquet", "f/s__odd/t/part-dead-0000.parquet"};
  folder.previous = {"f/s__odd/t/part-a-0000.parquet", "f/s__odd/t/part-a-0001.parquet"};
  folder.previous_replaced_at = kNow - minutes(5);
  auto plan = PlanSlotCleanup("f/s__odd", folder, kNow, minutes(60), "id");
  ASSERT_TRUE(plan.keep);
  EXPECT_EQ(plan.keep->marker, "f/s__odd/_replaced-1799999700-id.json");
  // Only files that are there are listed; a failed run's file goes.
  EXPECT_EQ(plan.keep->files, std::vector<std::string>{"f/s__odd/t/part-a-0000.parquet"});
  EXPECT_EQ(plan.remove, std::vector<std::string>{"f/s__odd/t/part-dead-0000.parquet"});

  // Past the grace: everything goes, no marker.
  plan = PlanSlotCleanup("f/s__odd", folder, kNow + minutes(56), minutes(60), "id");
  EXPECT_FALSE(plan.keep);
  EXPECT_EQ(plan.remove.size(), 2u);
}

TEST(SlotRetentionTest, MarkersProtectTheirFilesUntilTheyExpireThenGoLast) {
  ReplacedFiles old;
  old.marker = "f/s__odd/_replaced-1-x.json";
  old.replaced_at = kNow - minutes(10);
  old.files = {"f/s__odd/t/part-old-0000.parquet"};
  SlotFolder folder;
  folder.files = {old.marker, old.files[0], "f/s__odd/t/part-new-0000.parquet"};
  folder.markers = {old};
  folder.live = {"f/s__odd/t/part-new-0000.parquet"};
  auto plan = PlanSlotCleanup("f/s__odd", folder, kNow, minutes(60), "id");
  EXPECT_EQ(plan.remove, std::vector<std::string>{});
  plan = PlanSlotCleanup("f/s__odd", folder, kNow, minutes(5), "id");
  EXPECT_EQ(plan.remove, (std::vector<std::string>{old.files[0], old.marker}));
}

TEST(SlotRetentionTest, MarkerJsonRoundTripsAndRejectsOtherText) {
  ReplacedFiles marker{"m.json", kNow, {"a", "b"}};
  auto back = ParseReplacedFiles("m.json", ReplacedFilesJson(marker)).ValueOrDie();
  EXPECT_EQ(back.replaced_at, kNow);
  EXPECT_EQ(back.files, marker.files);
  EXPECT_FALSE(ParseReplacedFiles("m.json", "{\"files\": 3}").ok());
  EXPECT_FALSE(ParseReplacedFiles("m.json", "not json").ok());
}

}  // namespace
}  // namespace lakepipe::tablestore
