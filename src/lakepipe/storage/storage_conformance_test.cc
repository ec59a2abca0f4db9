// One conformance suite for the storage layer, run against every backend. Under ctest it
// runs on a local temp folder; the end-to-end suite (tests/e2e/test_storage_conformance.py)
// runs this same binary against S3 (moto), GCS (fake-gcs-server) and Azure (Azurite) by
// setting LAKEPIPE_TEST_STORAGE_ROOT and the providers' standard environment variables.

#include <cstdlib>
#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/storage/runtime.h"
#include "lakepipe/storage/storage.h"
#include "lakepipe/testing/gtest_util.h"

#include <arrow/filesystem/s3fs.h>

namespace lakepipe::storage {
namespace {

// The S3 SDK must be finalized before the process exits (never from atexit).
class FinalizeS3Environment : public ::testing::Environment {
 public:
  void TearDown() override { (void)arrow::fs::EnsureS3Finalized(); }
};
[[maybe_unused]] auto* const kFinalizeS3 =
    ::testing::AddGlobalTestEnvironment(new FinalizeS3Environment);

class StorageConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(ArrowRuntime::Initialize());
    auto options = StorageOptions::FromEnvironment();
    options.retry.deadline_seconds = 20;
    storage_ = Storage::Make(options).ValueOrDie();
    std::random_device rd;
    const std::string run = fmt::format("conformance-{:08x}", rd());
    if (const char* root = std::getenv("LAKEPIPE_TEST_STORAGE_ROOT")) {
      auto parsed = Uri::Parse(root);
      ASSERT_OK(parsed);
      root_ = std::make_unique<Uri>(parsed->Join(run));
      return;
    }
    {
      local_dir_ = std::filesystem::temp_directory_path() / run;
      root_ = std::make_unique<Uri>(Uri::Parse(local_dir_.string()).ValueOrDie());
    }
  }

  void TearDown() override {
    if (storage_ && root_) {
      auto s = storage_->DeleteTree(*root_);
      EXPECT_OK(s);
    }
    if (!local_dir_.empty()) std::filesystem::remove_all(local_dir_);
  }

  std::string ReadText(const Uri& uri) {
    auto buffer = storage_->ReadAll(uri);
    EXPECT_OK(buffer);
    return buffer.ok() ? (*buffer)->ToString() : "";
  }

  std::filesystem::path local_dir_;
  std::unique_ptr<Uri> root_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(StorageConformanceTest, WriteAllThenReadAllGivesSameBytes) {
  const Uri file = root_->Join("a/b/hello.txt");
  ASSERT_OK(storage_->WriteAll(file, "hello, lake"));
  EXPECT_EQ(ReadText(file), "hello, lake");
}

TEST_F(StorageConformanceTest, OverwriteReplacesTheWholeObject) {
  const Uri file = root_->Join("x.txt");
  ASSERT_OK(storage_->WriteAll(file, "a much longer first version"));
  ASSERT_OK(storage_->WriteAll(file, "short"));
  EXPECT_EQ(ReadText(file), "short");
}

TEST_F(StorageConformanceTest, ListIsRecursiveSortedAndHasSizes) {
  ASSERT_OK(storage_->WriteAll(root_->Join("t/part-1"), "1"));
  ASSERT_OK(storage_->WriteAll(root_->Join("t/part-0"), ""));
  ASSERT_OK(storage_->WriteAll(root_->Join("t/dt=2026-01-01/part-2"), "333"));
  auto entries = storage_->List(root_->Join("t"), /*recursive=*/true);
  ASSERT_OK(entries);
  std::vector<std::pair<std::string, int64_t>> files;
  for (const auto& e : *entries) {
    if (!e.is_dir) files.emplace_back(e.uri.Name(), e.size);
  }
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"part-2", 3}, {"part-0", 0}, {"part-1", 1}};
  EXPECT_EQ(files, expected);
}

TEST_F(StorageConformanceTest, ListOfMissingFolderIsEmpty) {
  auto entries = storage_->List(root_->Join("nothing/here"));
  ASSERT_OK(entries);
  EXPECT_TRUE(entries->empty());
}

TEST_F(StorageConformanceTest, StatOfMissingNamesTheUri) {
  const Uri missing = root_->Join("missing.parquet");
  auto entry = storage_->Stat(missing);
  ASSERT_FALSE(entry.ok());
  EXPECT_NE(entry.status().message().find(missing.ToString()), std::string::npos)
      << entry.status().message();
  auto exists = storage_->Exists(missing);
  ASSERT_OK(exists);
  EXPECT_FALSE(*exists);
}

TEST_F(StorageConformanceTest, StatOfMissingCarriesTheUriAsData) {
  const Uri missing = root_->Join("missing.parquet");
  auto entry = storage_->Stat(missing);
  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.status().message(), fmt::format("'{}' does not exist", missing.ToString()));
  EXPECT_EQ(SubjectOf(entry.status(), Subject::Kind::kUri), missing.ToString());
}

TEST_F(StorageConformanceTest, StatIfExistsOfMissingIsNoEntry) {
  auto missing = storage_->StatIfExists(root_->Join("nothing/here.json"));
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
  const Uri file = root_->Join("here.json");
  ASSERT_OK(storage_->WriteAll(file, "{}"));
  auto present = storage_->StatIfExists(file);
  ASSERT_OK(present);
  ASSERT_TRUE(present->has_value());
  EXPECT_EQ((*present)->size, 2);
  EXPECT_FALSE((*present)->is_dir);
}

TEST_F(StorageConformanceTest, ReadIfExistsOfMissingIsNoBuffer) {
  auto missing = storage_->ReadIfExists(root_->Join("nothing/here.json"));
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
  const Uri file = root_->Join("here.json");
  ASSERT_OK(storage_->WriteAll(file, "{\"a\": 1}"));
  auto present = storage_->ReadIfExists(file);
  ASSERT_OK(present);
  ASSERT_TRUE(present->has_value());
  EXPECT_EQ((**present)->ToString(), "{\"a\": 1}");
}

TEST_F(StorageConformanceTest, DeleteRemovesAndMissingIsFine) {
  const Uri file = root_->Join("gone.txt");
  ASSERT_OK(storage_->WriteAll(file, "x"));
  ASSERT_OK(storage_->Delete(file));
  EXPECT_FALSE(storage_->Exists(file).ValueOrDie());
  EXPECT_OK(storage_->Delete(file));
}

TEST_F(StorageConformanceTest, DeleteTreeRemovesEverythingBelow) {
  ASSERT_OK(storage_->WriteAll(root_->Join("tree/a/1"), "1"));
  ASSERT_OK(storage_->WriteAll(root_->Join("tree/b/2"), "2"));
  ASSERT_OK(storage_->DeleteTree(root_->Join("tree")));
  auto entries = storage_->List(root_->Join("tree"));
  ASSERT_OK(entries);
  for (const auto& e : *entries) EXPECT_TRUE(e.is_dir) << e.uri.ToString();
}

TEST_F(StorageConformanceTest, CopyWithinOneBackendCopiesBytes) {
  const Uri source = root_->Join("src.bin");
  const Uri target = root_->Join("copies/dst.bin");
  std::string payload(3 << 20, 'x');
  for (size_t i = 0; i < payload.size(); i += 4093) payload[i] = static_cast<char>(i % 251);
  ASSERT_OK(storage_->WriteAll(source, payload));
  int64_t reported = 0;
  ASSERT_TRUE(storage_->Copy(source, target, [&](int64_t done, int64_t) { reported = done; }).ok());
  EXPECT_EQ(ReadText(target), payload);
  EXPECT_EQ(reported, static_cast<int64_t>(payload.size()));
}

TEST_F(StorageConformanceTest, AbortedWriterPublishesNothing) {
  const Uri file = root_->Join("aborted.bin");
  auto writer = storage_->OpenWrite(file);
  ASSERT_OK(writer);
  std::string chunk(1 << 20, 'a');
  for (int i = 0; i < 6; ++i) ASSERT_OK((*writer)->Write(chunk.data(), chunk.size()));
  ASSERT_OK((*writer)->Abort());
  EXPECT_FALSE(storage_->Exists(file).ValueOrDie());
  auto entries = storage_->List(*root_);
  ASSERT_OK(entries);
  for (const auto& e : *entries) EXPECT_TRUE(e.is_dir) << "left behind: " << e.uri.ToString();
}

TEST_F(StorageConformanceTest, DestroyedWriterPublishesNothing) {
  const Uri file = root_->Join("dropped.bin");
  {
    auto writer = storage_->OpenWrite(file);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->Write("partial", 7));
  }
  EXPECT_FALSE(storage_->Exists(file).ValueOrDie());
}

TEST_F(StorageConformanceTest, ObjectIsInvisibleUntilClose) {
  const Uri file = root_->Join("pending.bin");
  auto writer = storage_->OpenWrite(file);
  ASSERT_OK(writer);
  std::string chunk(1 << 20, 'p');
  for (int i = 0; i < 12; ++i) ASSERT_OK((*writer)->Write(chunk.data(), chunk.size()));
  EXPECT_FALSE(storage_->Exists(file).ValueOrDie());
  ASSERT_OK((*writer)->Close());
  EXPECT_EQ(storage_->Stat(file).ValueOrDie().size, 12 << 20);
}

}  // namespace
}  // namespace lakepipe::storage
