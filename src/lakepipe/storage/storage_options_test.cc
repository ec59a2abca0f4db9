#include "lakepipe/storage/storage_options.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "lakepipe/testing/gtest_util.h"

namespace lakepipe::storage {
namespace {

/// Writes `text` as a storage file and merges it into default options.
arrow::Result<StorageOptions> MergeFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  StorageOptions options;
  ARROW_RETURN_NOT_OK(options.MergeYamlFile(path));
  return options;
}

TEST(StorageOptionsTest, AStorageFileSetsProviderAndRetryKeys) {
  testing::TempDir dir("storage-options");
  ASSERT_OK_AND_ASSIGN(auto options,
                       MergeFile(dir / "s.yaml",
                                 "storage:\n  endpoint: http://h:9000\n  s3: {region: eu}\n"
                                 "  retry: {max_attempts: 3}\n"));
  EXPECT_EQ(options.s3.endpoint, "http://h:9000");
  EXPECT_EQ(options.gcs.endpoint, "http://h:9000");
  EXPECT_EQ(options.s3.region, "eu");
  EXPECT_EQ(options.retry.max_attempts, 3);
}

// As in pipeline and flow files (common/yaml_reader.h): a key given no value is an
// error naming the file, the key's line and the key.
TEST(StorageOptionsTest, AKeyGivenNoValueIsAnErrorOnItsLine) {
  testing::TempDir dir("storage-options");
  const std::string path = dir / "s.yaml";
  const std::string fix = " is empty: give it a value (\"\" for empty text)";
  EXPECT_EQ(MergeFile(path, "endpoint:\nregion: eu\n").status().message(),
            path + ":1: 'endpoint'" + fix);
  EXPECT_EQ(MergeFile(path, "storage:\n  region: eu\n  url_style:   \n\n").status().message(),
            path + ":3: 'url_style'" + fix);
  EXPECT_EQ(MergeFile(path, "storage:\n  azure:\n    account: ~\n").status().message(),
            path + ":3: 'account' is null: give it a value (\"null\" for the word)");
  EXPECT_EQ(MergeFile(path, "storage:\n  azure:\n    account:\n").status().message(),
            path + ":3: 'account'" + fix);
  EXPECT_EQ(MergeFile(path, "retry:\n  max_attempts:\n").status().message(),
            path + ":2: 'retry.max_attempts'" + fix);
  EXPECT_EQ(MergeFile(path, "verify_tls:\n").status().message(), path + ":1: 'verify_tls'" + fix);
  // Empty text is a value.
  ASSERT_OK_AND_ASSIGN(auto options, MergeFile(path, "region: ''\n"));
  EXPECT_EQ(options.s3.region, "");
}

TEST(StorageOptionsTest, UnreadableAndUnknownAreErrors) {
  testing::TempDir dir("storage-options");
  StorageOptions options;
  ASSERT_NOT_OK_WITH(options.MergeYamlFile(dir / "missing.yaml"), "cannot read storage config");
  const std::string path = dir / "s.yaml";
  EXPECT_EQ(MergeFile(path, "storage:\n  endpoints: x\n").status().message(),
            path + ":2: unknown key 'storage.endpoints'");
  EXPECT_EQ(MergeFile(path, "storage: {retry: {max_attempts: .nan}}\n").status().message(),
            path + ":1: 'retry.max_attempts' must be a non-negative number");
}

}  // namespace
}  // namespace lakepipe::storage
