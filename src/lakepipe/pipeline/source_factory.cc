#include "lakepipe/pipeline/source_factory.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "lakepipe/sources/demo_ingest_source.h"
#include "lakepipe/sources/file_source.h"
#include "lakepipe/sources/postgres_source.h"

namespace lakepipe::pipeline {

arrow::Result<std::optional<nlohmann::json>> LoadTapConfig(const SourceConfig& source) {
  if (source.config_inline) return source.config_inline;
  if (source.config_path.empty()) return std::nullopt;
  std::ifstream in(source.config_path);
  if (!in) {
    return arrow::Status::IOError(fmt::format("cannot read tap config '{}'", source.config_path));
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    // Not e.what() alone: the parser quotes no content, but name the file, not the values.
    return arrow::Status::Invalid(
        fmt::format("tap config '{}' is not valid JSON (byte {})", source.config_path,
                    dynamic_cast<const nlohmann::json::parse_error*>(&e)
                        ? dynamic_cast<const nlohmann::json::parse_error&>(e).byte
                        : 0));
  }
}

arrow::Result<singer::SingerSourceOptions> MakeSingerOptions(
    const PipelineConfig& config, const std::optional<nlohmann::json>& state) {
  const SourceConfig& source = config.source;
  singer::SingerSourceOptions options;
  options.tap_argv = source.tap_argv;
  ARROW_ASSIGN_OR_RAISE(options.config, LoadTapConfig(source));
  options.state = state;
  options.streams = source.streams;
  // Incremental: ask the tap for INCREMENTAL on the replication key, per stream where the
  // file says so (without it taps such as pipelinewise run FULL_TABLE every time).
  if (config.incremental) {
    options.replication.key = config.replication_key;
    if (!config.replication_key.empty()) options.replication.method = "INCREMENTAL";
    for (const auto& [stream, replication] : config.stream_replication) {
      singer::StreamReplication asked = replication;
      if (asked.method.empty() && !asked.key.empty()) asked.method = "INCREMENTAL";
      options.stream_replication[stream] = asked;
    }
  }
  options.on_type_error = config.on_type_error;
  options.batch_rows = config.batch_rows;
  options.batch_bytes = config.batch_bytes;
  options.timeout_seconds = config.timeout_seconds;
  return options;
}

arrow::Result<std::unique_ptr<sources::IngestSource>> MakeSource(
    const PipelineConfig& config, const std::optional<nlohmann::json>& state,
    storage::Storage* storage) {
  const SourceConfig& source = config.source;
  if (!source.tap_argv.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto options, MakeSingerOptions(config, state));
    return std::make_unique<singer::SingerSource>(std::move(options));
  }
  std::string stream = !source.stream.empty()    ? source.stream
                       : source.reader == "demo" ? "orders"
                                                 : source.reader;
  if (source.reader == "postgres") {
    const std::string& table = source.options.at("table");  // checked when parsed
    if (source.stream.empty()) stream = table.substr(table.find('.') + 1);
    return std::make_unique<sources::PostgresSource>(source.uri, table, stream,
                                                     config.replication_key,
                                                     config.incremental ? state : std::nullopt);
  }
  if (source.reader == "demo") {
    int64_t rows = 100'000;
    if (auto it = source.options.find("rows"); it != source.options.end()) {
      const auto& text = it->second;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rows);
      if (ec != std::errc() || end != text.data() + text.size() || rows < 0) {
        return arrow::Status::Invalid(
            fmt::format("{}: source.options.rows '{}' is not a row count", config.file, text));
      }
    }
    return std::make_unique<sources::DemoIngestSource>(stream, rows);
  }
  // csv, jsonl, parquet (ParsePipelineYaml admits no other reader).
  return std::make_unique<sources::FileSource>(storage, source.reader, source.uri, stream,
                                               source.options);
}

}  // namespace lakepipe::pipeline
