#include "lakepipe/lake/run_journal.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "lakepipe/storage/runtime.h"
#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::lake {
namespace {

namespace fs = std::filesystem;

// Journals a person or another tool left in the journal folder: recovery must say what
// is wrong and where, and must delete nothing on their word.
class RunJournalRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(storage::ArrowRuntime::Initialize());
    fs::create_directories(dir_ / ".dataspoc/journal/orders");
    fs::create_directories(dir_ / "raw/demo/orders");
    std::ofstream(dir_ / "raw/demo/orders/orders_0000.parquet") << "committed earlier";
    storage_ = storage::Storage::Make(storage::StorageOptions{}).ValueOrDie();
  }

  // Writes `text` as a journal and returns what recovery says.
  std::string Recover(const std::string& text) {
    std::ofstream(dir_ / ".dataspoc/journal/orders/run1.json") << text;
    BucketLayout layout(storage::Uri::Parse(dir_.string()).ValueOrDie());
    auto recovered = RunJournal::RecoverDeadRuns(storage_.get(), layout, "orders");
    return recovered.ok() ? "OK" : recovered.status().message();
  }

  std::string Refused(const std::string& why) const {
    return "run journal 'file://" + dir_.string() +
           "/.dataspoc/journal/orders/run1.json' cannot be used: " + why +
           ". It should say what a run that died wrote, so lakepipe stops rather than guess: "
           "look at it, delete the data files it lists that the manifest does not (if any), "
           "then delete the journal and run again";
  }

  bool Untouched() const {
    return fs::exists(dir_ / ".dataspoc/journal/orders/run1.json") &&
           fs::exists(dir_ / "raw/demo/orders/orders_0000.parquet");
  }

  lakepipe::testing::TempDir temp_{"journal"};
  const std::filesystem::path dir_ = temp_.path();
  std::unique_ptr<storage::Storage> storage_;
};

TEST_F(RunJournalRecoveryTest, AJournalThatIsAListIsRefused) {
  EXPECT_EQ(Recover("[]"), Refused("it is not a JSON object"));
  EXPECT_TRUE(Untouched());
}

TEST_F(RunJournalRecoveryTest, AnUnknownStatusIsRefusedAndNothingIsDeleted) {
  // Treated as "running" before, which deleted the files it listed.
  EXPECT_EQ(Recover(R"({"status": "finishing", "written": ["raw/demo/orders/orders_0000.parquet"]})"),
            Refused(R"(its status "finishing" is not "running", "prepared" or "committed")"));
  EXPECT_TRUE(Untouched());
  EXPECT_EQ(Recover(R"({"status": 3, "written": []})"), Refused("it has no 'status' string"));
}

TEST_F(RunJournalRecoveryTest, WrongFieldTypesAreRefused) {
  EXPECT_EQ(Recover(R"({"status": "running", "written": "raw/x.parquet"})"),
            Refused("'written' is not a list"));
  EXPECT_EQ(Recover(R"({"status": "running", "written": [7]})"),
            Refused("'written' holds a non-string"));
  EXPECT_EQ(Recover(R"({"status": "committed", "written": []})"),
            Refused("it is committed but has no 'commit'"));
  EXPECT_EQ(Recover(R"({"status": "committed", "written": [], "commit": {"entries": {}}})"),
            Refused("'commit.entries' is not a list"));
  EXPECT_EQ(Recover(R"({"status": "running", "written": [], "version": 99})"),
            Refused("it has version 99, newer than this lakepipe reads (1): run a newer "
                    "lakepipe"));
  EXPECT_TRUE(Untouched());
}

TEST_F(RunJournalRecoveryTest, PathsOutsideTheBucketAreRefused) {
  EXPECT_EQ(Recover(R"({"status": "running", "written": ["raw/../../etc/passwd"]})"),
            Refused(R"('written' holds "raw/../../etc/passwd", which is not a path inside )"
                    "the bucket"));
  EXPECT_TRUE(Untouched());
}

TEST_F(RunJournalRecoveryTest, InvalidOrTruncatedJsonIsRefused) {
  const std::string message = Recover(R"({"status": "running", "writ)");
  EXPECT_TRUE(message.starts_with(Refused("it is not valid JSON (").substr(0, 120))) << message;
  EXPECT_NE(message.find("it is not valid JSON ([json.exception.parse_error.101]"),
            std::string::npos)
      << message;
  EXPECT_TRUE(Recover("").find("it is not valid JSON") != std::string::npos);
  EXPECT_TRUE(Untouched());
}

TEST_F(RunJournalRecoveryTest, AWellFormedRunningJournalIsUndone) {
  std::ofstream(dir_ / "raw/demo/orders/orders_0001.parquet") << "uncommitted";
  EXPECT_EQ(Recover(R"({"format": "lakepipe.run_journal", "version": 1, "run_id": "r",
                        "status": "running",
                        "written": ["raw/demo/orders/orders_0001.parquet"]})"),
            "OK");
  EXPECT_FALSE(fs::exists(dir_ / "raw/demo/orders/orders_0001.parquet"));
  EXPECT_TRUE(fs::exists(dir_ / "raw/demo/orders/orders_0000.parquet"));
  EXPECT_FALSE(fs::exists(dir_ / ".dataspoc/journal/orders/run1.json"));
}

}  // namespace
}  // namespace lakepipe::lake
