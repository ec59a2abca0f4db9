#include "lakepipe/pipeline/boundary_filter.h"

#include <arrow/api.h>
#include <arrow/compute/initialize.h>
#include <arrow/json/from_string.h>
#include <gtest/gtest.h>

namespace lakepipe::pipeline {
namespace {

// Arrow's compute functions register at Initialize() (the CLI's main calls it).
const arrow::Status kComputeReady = arrow::compute::Initialize();

std::shared_ptr<arrow::RecordBatch> Rows(
    const std::string& ids, const std::string& keys,
    std::shared_ptr<arrow::DataType> key_type = arrow::int64()) {
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("k", key_type)});
  auto id = arrow::json::ArrayFromJSONString(arrow::int64(), ids).ValueOrDie();
  auto k = arrow::json::ArrayFromJSONString(key_type, keys).ValueOrDie();
  return arrow::RecordBatch::Make(schema, id->length(), {id, k});
}

std::vector<int64_t> Ids(const arrow::RecordBatch& batch) {
  const auto& ids = static_cast<const arrow::Int64Array&>(*batch.column(0));
  return {ids.raw_values(), ids.raw_values() + ids.length()};
}

// One run: a filter from `saved`, the batches through it, the state it would save.
nlohmann::json OneRun(const nlohmann::json& saved,
                      std::vector<std::shared_ptr<arrow::RecordBatch>> in,
                      std::vector<std::vector<int64_t>>* out,
                      std::vector<std::string> keys = {"id"}) {
  auto filter = BoundaryFilter::FromState(saved).ValueOrDie();
  filter.SetKeys("s", "k", keys);
  for (const auto& batch : in) out->push_back(Ids(*filter.Apply("s", batch).ValueOrDie()));
  return filter.ToState().ValueOrDie();
}

TEST(BoundaryFilterTest, RowsAtTheBookmarkAreAppendedOnceAcrossRuns) {
  std::vector<std::vector<int64_t>> out;
  // Run 1: rows 1..3, k 10, 20, 20: the boundary is k = 20 with ids 2 and 3.
  auto state = OneRun(nullptr, {Rows("[1, 2, 3]", "[10, 20, 20]")}, &out);
  EXPECT_EQ(state["s"]["value"], "20");
  EXPECT_EQ(state["s"]["keys"], nlohmann::json({"[\"2\"]", "[\"3\"]"}));
  // Run 2: the tap selects k >= 20 and sends 2 and 3 again, with a new 4 at 20 and 5 at 30.
  state = OneRun(state, {Rows("[2, 3, 4]", "[20, 20, 20]"), Rows("[5]", "[30]")}, &out);
  EXPECT_EQ(out[1], (std::vector<int64_t>{4}));
  EXPECT_EQ(out[2], (std::vector<int64_t>{5}));
  EXPECT_EQ(state["s"]["value"], "30");
  EXPECT_EQ(state["s"]["keys"], nlohmann::json({"[\"5\"]"}));
  // Run 3: nothing new: only 5 again, which is dropped, and the boundary stays.
  state = OneRun(state, {Rows("[5]", "[30]")}, &out);
  EXPECT_TRUE(out[3].empty());
  EXPECT_EQ(state["s"]["keys"], nlohmann::json({"[\"5\"]"}));
}

TEST(BoundaryFilterTest, AnUpdatedRowWithANewerKeyIsKept) {
  std::vector<std::vector<int64_t>> out;
  auto state = OneRun(nullptr, {Rows("[1, 2]", "[10, 20]")}, &out);
  // Row 2 comes again at 20 (unchanged: dropped); row 1 was updated (k 25: kept).
  state = OneRun(state, {Rows("[2, 1]", "[20, 25]")}, &out);
  EXPECT_EQ(out[1], (std::vector<int64_t>{1}));
  EXPECT_EQ(state["s"]["value"], "25");
}

TEST(BoundaryFilterTest, RowsWithoutKeyPropertiesAreIdentifiedByAllTheirValues) {
  std::vector<std::vector<int64_t>> out;
  auto state = OneRun(nullptr, {Rows("[1, 2]", "[10, 20]")}, &out, {});
  // The same values again are dropped; other values at the same key are kept.
  OneRun(state, {Rows("[2, 3]", "[20, 20]")}, &out, {});
  EXPECT_EQ(out[1], (std::vector<int64_t>{3}));
}

TEST(BoundaryFilterTest, NullKeysNeverFormABoundary) {
  std::vector<std::vector<int64_t>> out;
  auto state = OneRun(nullptr, {Rows("[1, 2]", "[null, null]")}, &out);
  EXPECT_TRUE(state.empty());
  state = OneRun(nullptr, {Rows("[1, 2, 3]", "[null, 5, null]")}, &out);
  EXPECT_EQ(state["s"]["value"], "5");
  EXPECT_EQ(state["s"]["keys"], nlohmann::json({"[\"2\"]"}));
}

TEST(BoundaryFilterTest, TimestampKeysRoundTripThroughTheirText) {
  const auto ts = arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
  std::vector<std::vector<int64_t>> out;
  auto state = OneRun(
      nullptr, {Rows("[1, 2]", R"(["2024-03-01 10:00:00", "2024-03-01 11:00:00.5"])", ts)}, &out);
  EXPECT_EQ(state["s"]["value"], "2024-03-01 11:00:00.500000Z");
  OneRun(state, {Rows("[2, 3]", R"(["2024-03-01 11:00:00.5", "2024-03-01 11:00:00.5"])", ts)},
         &out);
  EXPECT_EQ(out[1], (std::vector<int64_t>{3}));
}

TEST(BoundaryFilterTest, ASavedBoundaryOfAnotherKeyIsIgnored) {
  std::vector<std::vector<int64_t>> out;
  auto state = OneRun(nullptr, {Rows("[1]", "[10]")}, &out);
  state["s"]["replication_key"] = "other";
  OneRun(state, {Rows("[1]", "[10]")}, &out);
  EXPECT_EQ(out[1], (std::vector<int64_t>{1}));
}

TEST(BoundaryFilterTest, MalformedSavedStateIsAnError) {
  auto bad = BoundaryFilter::FromState(nlohmann::json{{"s", {{"value", 3}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "state: lakepipe.boundaries['s']: needs string \"replication_key\" and \"value\" "
            "and a \"keys\" list");
}

}  // namespace
}  // namespace lakepipe::pipeline
