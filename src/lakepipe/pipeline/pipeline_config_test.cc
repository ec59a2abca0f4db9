#include "lakepipe/pipeline/pipeline_config.h"
#include "lakepipe/testing/gtest_util.h"

#include <limits>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace lakepipe::pipeline {
namespace {

std::string Error(const std::string& yaml) {
  auto config = ParsePipelineYaml(yaml, "p", "p.yaml", "/home/lp");
  return config.ok() ? std::string("OK") : config.status().message();
}

constexpr char kDestination[] = "destination: {bucket: s3://lake}\n";

TEST(PipelineConfigTest, InlineTapConfigKeepsScalarTypes) {
  auto config = ParsePipelineYaml(std::string("source:\n  tap: tap-x\n  config: {port: 5432, "
                                              "ssl: true, ratio: 0.5, name: '42', "
                                              "hosts: [a, b]}\n") +
                                      kDestination,
                                  "p", "p.yaml", "/home/lp")
                    .ValueOrDie();
  EXPECT_EQ(config.source.config_inline->dump(),
            R"({"hosts":["a","b"],"name":"42","port":5432,"ratio":0.5,"ssl":true})");
}

// Found by fuzz/pipeline_yaml_fuzzer.cc: bytes that are not UTF-8 in the inline tap config
// made nlohmann::json::dump() throw when the config was written for the tap.
TEST(PipelineConfigTest, InlineTapConfigMustBeUtf8) {
  EXPECT_EQ(
      Error(std::string("source:\n  tap: tap-x\n  config: {host: \"d\xb0\"}\n") + kDestination),
      "p.yaml:3: 'source.config.host' is not UTF-8 text");
  EXPECT_EQ(Error(std::string("source:\n  tap: tap-x\n  config: {h\x85st: db}\n") + kDestination),
            "p.yaml:3: a key of 'source.config' is not UTF-8 text");
}

// Found by the bad-input catalogue: an invalid bucket URI was reported without the file,
// and the destination writer would have aborted on it.
TEST(PipelineConfigTest, InvalidBucketUriNamesTheFileAndLine) {
  EXPECT_EQ(Error("source: {tap: tap-x}\ndestination: {bucket: 'ftp://h/x'}\n"),
            "p.yaml:2: 'destination.bucket': invalid URI 'ftp://h/x': unknown scheme 'ftp' (use "
            "a path, file://, s3://, gs://, az:// or abfs://)");
}

// Found by fuzz/pipeline_yaml_fuzzer.cc: a list or map used as a key threw yaml-cpp's
// BadConversion out of the loader, which ended the process.
TEST(PipelineConfigTest, KeysThatAreNotStringsAreErrors) {
  EXPECT_EQ(Error(std::string("source: {reader: demo, [a]: 1}\n") + kDestination),
            "p.yaml:1: keys of 'source' must be strings");
  EXPECT_EQ(Error(std::string("source: {tap: t, config: {[a]: 1}}\n") + kDestination),
            "p.yaml:1: keys of 'source.config' must be strings");
  EXPECT_EQ(Error(std::string("source: {reader: demo, options: {{a: 1}: 1}}\n") + kDestination),
            "p.yaml:1: keys of 'source.options' must be strings");
  EXPECT_EQ(Error(std::string("source: {reader: demo}\n") + kDestination +
                  "storage: {retry: {[a]: 1}}\n"),
            "p.yaml:3: keys of 'storage.retry' must be strings");
  EXPECT_EQ(
      Error(std::string("source: {reader: demo}\n") + kDestination + "storage: {s3: {[a]: 1}}\n"),
      "p.yaml:3: keys of 'storage.s3' must be strings");
}

// Found in review of the fuzz targets' inputs and confirmed under UBSan with
// fuzz/pipeline_yaml_fuzzer.cc: max_attempts: 1e20 converted a double beyond int's range
// (undefined), .nan passed as a non-negative number, and sizes in MiB wrapped past int64.
TEST(PipelineConfigTest, NumbersBeyondTheirTypeAreClampedOrRefused) {
  const std::string source = std::string("source: {reader: demo}\n") + kDestination;
  auto config = ParsePipelineYaml(source + "storage: {retry: {max_attempts: 1e20}}\n", "p",
                                  "p.yaml", "/home/lp")
                    .ValueOrDie();
  EXPECT_EQ(config.storage.retry.max_attempts, std::numeric_limits<int>::max());
  EXPECT_EQ(Error(source + "storage: {retry: {max_attempts: .nan}}\n"),
            "p.yaml:3: 'retry.max_attempts' must be a non-negative number");
  EXPECT_EQ(
      Error("source: {reader: demo}\ndestination: {bucket: b, file_size_mb: 9999999999999}\n"),
      "p.yaml:2: 'destination.file_size_mb' is too large");
  EXPECT_EQ(Error(source + "batch: {bytes_mb: 9223372036854775807}\n"),
            "p.yaml:3: 'batch.bytes_mb' is too large");
}

TEST(PipelineConfigTest, TapTimeoutDefaultsToSixHoursAndZeroMeansNone) {
  const std::string source = std::string("source: {reader: demo}\n") + kDestination;
  auto parse = [&](const std::string& extra) {
    return ParsePipelineYaml(source + extra, "p", "p.yaml", "/home/lp").ValueOrDie();
  };
  EXPECT_EQ(parse("").timeout_seconds, 6 * 3600);
  EXPECT_EQ(parse("timeout_seconds: 0\n").timeout_seconds, 0);
  EXPECT_EQ(parse("timeout_seconds: 90\n").timeout_seconds, 90);
  EXPECT_EQ(Error(source + "timeout_seconds: -1\n"),
            "p.yaml:3: 'timeout_seconds' must be a non-negative integer");
}

// A key given no value is an error naming the file, the key's line and the key, in every
// part of the file (flows read the same way: common/yaml_reader.h); it was the text "null"
// in a flow's read options. Empty text is written "".
TEST(PipelineConfigTest, AKeyGivenNoValueIsAnErrorOnItsLine) {
  EXPECT_EQ(Error(std::string("source:\n  reader: csv\n  uri: /x.csv\n  options:\n"
                              "    delimiter:\n    header: 'true'\n") +
                  kDestination),
            "p.yaml:5: 'source.options.delimiter' is empty: give it a value (\"\" for empty text)");
  EXPECT_EQ(Error(std::string("source: {reader: csv, uri: /x.csv, options: {delimiter: ~}}\n") +
                  kDestination),
            "p.yaml:1: 'source.options.delimiter' is null: give it a value (\"null\" for the word)");
  EXPECT_EQ(Error(std::string("source: {reader: csv, uri: /x.csv, options: {delimiter: , a: b}}\n") +
                  kDestination),
            "p.yaml:1: 'source.options.delimiter' is empty: give it a value (\"\" for empty text)");
  EXPECT_EQ(Error(std::string("source:\n  reader:\n  uri: /x.csv\n") + kDestination),
            "p.yaml:2: 'source.reader' is empty: give it a value (\"\" for empty text)");
  EXPECT_EQ(Error("source: {reader: demo}\ndestination:\n  bucket: s3://lake\n"
                  "  compression:\n"),
            "p.yaml:4: 'destination.compression' is empty: give it a value (\"\" for empty text)");
  EXPECT_EQ(Error(std::string("source: {reader: demo}\n") + kDestination + "batch:\n  rows:\n"),
            "p.yaml:4: 'batch.rows' is empty: give it a value (\"\" for empty text)");
  EXPECT_EQ(Error(std::string("source: {reader: csv, uri: /x.csv, options: {delimiter: null}}\n") +
                  kDestination),
            "p.yaml:1: 'source.options.delimiter' is null: give it a value (\"null\" for the word)");
  EXPECT_EQ(Error(std::string("source: {reader: demo}\n") + kDestination + "on_type_error:\n"),
            "p.yaml:3: 'on_type_error' is empty: give it a value (\"\" for empty text)");
  auto config = ParsePipelineYaml(
      std::string("source: {reader: csv, uri: /x.csv, options: {quote: '', rows: 5}}\n") +
          kDestination,
      "p", "p.yaml", "/home/lp");
  ASSERT_OK(config);
  EXPECT_EQ(config->source.options.at("quote"), "");
  EXPECT_EQ(config->source.options.at("rows"), "5");
}

// The README writes `on_type_error: null`, which YAML reads as null: the word is meant.
TEST(PipelineConfigTest, OnTypeErrorNullIsThePolicyWhetherQuotedOrNot) {
  const std::string source = std::string("source: {reader: demo}\n") + kDestination;
  for (const char* spelling : {"null", "'null'", "\"null\""}) {
    auto config = ParsePipelineYaml(source + "on_type_error: " + spelling + "  # keep\n", "p",
                                    "p.yaml", "/home/lp");
    ASSERT_TRUE(config.ok()) << spelling << ": " << config.status().ToString();
    EXPECT_EQ(config->on_type_error, singer::OnTypeError::kNull) << spelling;
  }
  EXPECT_EQ(Error(source + "on_type_error: ~\n"),
            "p.yaml:3: 'on_type_error' is null: give it a value (\"null\" for the word)");
}

TEST(PipelineConfigTest, AStorageKeyGivenNoValueIsAnErrorOnItsLine) {
  const std::string source = std::string("source: {reader: demo}\n") + kDestination;
  EXPECT_EQ(Error(source + "storage:\n  endpoint:\n  region: eu\n"),
            "p.yaml:4: 'endpoint' is empty: give it a value (\"\" for empty text)");
  EXPECT_EQ(Error(source + "storage:\n  s3:\n    verify_tls:\n"),
            "p.yaml:5: 'verify_tls' is empty: give it a value (\"\" for empty text)");
  EXPECT_EQ(Error(source + "storage:\n  retry:\n    deadline_seconds:\n"),
            "p.yaml:5: 'retry.deadline_seconds' is empty: give it a value (\"\" for empty text)");
}

TEST(PipelineConfigTest, ParquetOptionsOfADestination) {
  auto config = ParsePipelineYaml("source: {reader: demo}\ndestination: {bucket: b, compression: "
                                  "gzip, compression_level: 5, row_group_rows: 10, "
                                  "file_size_mb: 2}\n",
                                  "p", "p.yaml", "/home/lp");
  ASSERT_OK(config);
  const auto& destination = config->destinations.at(0);
  EXPECT_EQ(destination.parquet.compression, "gzip");
  EXPECT_EQ(destination.parquet.compression_level, 5);
  EXPECT_EQ(destination.parquet.row_group_rows, 10);
  EXPECT_EQ(destination.file_size_target_bytes, 2 << 20);
  EXPECT_EQ(Error("source: {reader: demo}\ndestination: {bucket: b, row_group_rows: 0}\n"),
            "p.yaml:2: 'destination': row_group_rows must be positive");
  EXPECT_EQ(Error("source: {reader: demo}\ndestinations:\n  - {bucket: b, compression_level: "
                  "99999999999}\n"),
            "p.yaml:3: 'destinations[0].compression_level' is too large");
}

TEST(PipelineConfigTest, ReadersAreTheFileFormatsPostgresAndDemo) {
  for (const char* reader : {"csv", "jsonl", "parquet"}) {
    auto config = ParsePipelineYaml(fmt::format("source: {{reader: {}, uri: /x}}\n", reader) +
                                        kDestination,
                                    "p", "p.yaml", "/home/lp");
    EXPECT_TRUE(config.ok()) << reader << ": " << config.status().ToString();
  }
  EXPECT_EQ(Error(std::string("source: {reader: xml, uri: /x}\n") + kDestination),
            "p.yaml:1: unknown reader 'xml' (use csv, jsonl, parquet, postgres or demo)");
}

}  // namespace
}  // namespace lakepipe::pipeline
