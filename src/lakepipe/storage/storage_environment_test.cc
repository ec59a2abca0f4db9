#include "lakepipe/storage/storage_environment.h"

#include <gtest/gtest.h>

namespace lakepipe::storage {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(StorageEnvironmentTest, NothingSetAddsNothing) {
  EXPECT_TRUE(StorageEnvironment(StorageOptions{}, FakeEnv({})).empty());
}

TEST(StorageEnvironmentTest, S3EndpointRegionAndCaBundle) {
  StorageOptions options;
  options.s3.endpoint = "http://127.0.0.1:9000";
  options.s3.region = "eu-west-3";
  options.s3.tls_ca_file = "/etc/ca.pem";
  const std::map<std::string, std::string> expected = {
      {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"},
      {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"},
      {"AWS_REGION", "eu-west-3"},
      {"AWS_DEFAULT_REGION", "eu-west-3"},
      {"AWS_CA_BUNDLE", "/etc/ca.pem"}};
  EXPECT_EQ(StorageEnvironment(options, FakeEnv({})), expected);
}

TEST(StorageEnvironmentTest, S3EndpointWithoutRegionMeansUsEast1AsLakepipeUses) {
  StorageOptions options;
  options.s3.endpoint = "http://127.0.0.1:9000";
  auto env = StorageEnvironment(options, FakeEnv({}));
  EXPECT_EQ(env.at("AWS_REGION"), "us-east-1");
  EXPECT_EQ(env.at("AWS_DEFAULT_REGION"), "us-east-1");
}

TEST(StorageEnvironmentTest, GcsEmulatorAndProject) {
  StorageOptions options;
  options.gcs.endpoint = "http://127.0.0.1:4443";
  options.gcs.credentials = CredentialsSource::kAnonymous;
  options.gcs.project = "shop";
  const std::map<std::string, std::string> expected = {
      {"STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443"}, {"GOOGLE_CLOUD_PROJECT", "shop"}};
  EXPECT_EQ(StorageEnvironment(options, FakeEnv({})), expected);
}

TEST(StorageEnvironmentTest, GcsEndpointThatWantsCredentialsIsNoEmulator) {
  StorageOptions options;
  options.gcs.endpoint = "https://storage.example.com";
  EXPECT_FALSE(StorageEnvironment(options, FakeEnv({})).contains("STORAGE_EMULATOR_HOST"));
}

TEST(StorageEnvironmentTest, AzureEndpointBecomesAConnectionStringWithTheKeyOfOurEnvironment) {
  StorageOptions options;
  options.azure.endpoint = "http://127.0.0.1:10000/devstoreaccount1";
  options.azure.account = "devstoreaccount1";
  auto env = StorageEnvironment(options, FakeEnv({{"AZURE_STORAGE_KEY", "a2V5"}}));
  EXPECT_EQ(env.at("AZURE_STORAGE_ACCOUNT"), "devstoreaccount1");
  EXPECT_EQ(env.at("AZURE_STORAGE_CONNECTION_STRING"),
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1");
}

TEST(StorageEnvironmentTest, AzureConnectionStringOfOurEnvironmentIsLeftAlone) {
  StorageOptions options;
  options.azure.endpoint = "http://127.0.0.1:10000/devstoreaccount1";
  auto env = StorageEnvironment(
      options, FakeEnv({{"AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true"}}));
  EXPECT_FALSE(env.contains("AZURE_STORAGE_CONNECTION_STRING"));
}

}  // namespace
}  // namespace lakepipe::storage
