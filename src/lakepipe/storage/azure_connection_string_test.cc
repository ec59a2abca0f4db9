#include "lakepipe/storage/azure_connection_string.h"
#include "lakepipe/testing/gtest_util.h"

#include <gtest/gtest.h>

namespace lakepipe::storage {
namespace {

TEST(AzureConnectionStringTest, AzuriteStyleString) {
  auto parsed = AzureConnectionString::Parse(
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0;"
      "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://x;");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->account_name, "devstoreaccount1");
  EXPECT_EQ(parsed->account_key, "c2VjcmV0");
  EXPECT_EQ(parsed->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
}

TEST(AzureConnectionStringTest, PublicCloudEndpointFromSuffix) {
  auto parsed = AzureConnectionString::Parse(
      "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k;"
      "EndpointSuffix=core.windows.net");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->blob_endpoint, "https://acct.blob.core.windows.net");
}

TEST(AzureConnectionStringTest, DevelopmentStorageShortcut) {
  auto parsed = AzureConnectionString::Parse("UseDevelopmentStorage=true");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->account_name, "devstoreaccount1");
  EXPECT_FALSE(parsed->account_key.empty());
}

TEST(AzureConnectionStringTest, SasTokenInsteadOfKey) {
  auto parsed = AzureConnectionString::Parse("AccountName=a;SharedAccessSignature=sv=1&sig=2");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->sas_token, "sv=1&sig=2");
}

TEST(AzureConnectionStringTest, ErrorsNeverQuoteTheSecret) {
  auto no_account = AzureConnectionString::Parse("AccountKey=topsecret");
  ASSERT_FALSE(no_account.ok());
  EXPECT_EQ(no_account.status().message().find("topsecret"), std::string::npos);
  auto garbage = AzureConnectionString::Parse("AccountName=a;topsecret");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().message().find("topsecret"), std::string::npos);
  EXPECT_FALSE(AzureConnectionString::Parse("AccountName=a").ok());
}

}  // namespace
}  // namespace lakepipe::storage
