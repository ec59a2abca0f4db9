#include "lakepipe/pipeline/pipeline_config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "lakepipe/common/yaml_reader.h"
#include "lakepipe/common/yaml_to_json.h"
#include "lakepipe/lake/path_segment.h"
#include "lakepipe/parquet/parquet_options_yaml.h"
#include "lakepipe/sources/file_formats.h"
#include "lakepipe/storage/uri.h"

namespace lakepipe::pipeline {
namespace {

using common::YamlReader;

// What `source.reader` may name: the file formats, then a PostgreSQL table and the demo.
std::vector<std::string> ReaderNames() {
  std::vector<std::string> names;
  for (const auto& format : sources::FileFormats()) names.emplace_back(format.name);
  names.emplace_back("postgres");
  names.emplace_back("demo");
  return names;
}

// "a, b or c".
std::string OneOf(const std::vector<std::string>& names) {
  if (names.size() < 2) return fmt::format("{}", fmt::join(names, ""));
  return fmt::format("{} or {}", fmt::join(names.begin(), names.end() - 1, ", "), names.back());
}

// Splits a command line on spaces, keeping quoted words ("a b" or 'a b') together.
std::vector<std::string> SplitCommand(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  char quote = 0;
  bool in_word = false;
  for (char c : text) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        word.push_back(c);
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

arrow::Status ParseSource(const YamlReader& r, const YAML::Node& node, const std::string& home,
                          SourceConfig* out) {
  ARROW_RETURN_NOT_OK(r.OnlyKeys(
      node, "source", {"tap", "config", "streams", "reader", "uri", "stream", "options", "name"}));
  if (node["tap"]) {
    ARROW_ASSIGN_OR_RAISE(auto tap, r.String(node["tap"], "source.tap"));
    out->tap_argv = SplitCommand(tap);
    if (out->tap_argv.empty()) return r.Error(node["tap"], "'source.tap' is empty");
  }
  if (const auto config = node["config"]) {
    if (config.IsMap()) {
      ARROW_ASSIGN_OR_RAISE(out->config_inline, common::YamlToJson(r, config, "source.config"));
    } else if (config.IsScalar()) {
      std::string text = config.Scalar();
      // DataSpoc Pipe's documented files say "~/.dataspoc-pipe/sources/x.json".
      if (text.starts_with("~/")) {
        const char* user_home = std::getenv("HOME");
        text = std::string(user_home ? user_home : "") + text.substr(1);
      }
      std::filesystem::path path(text);
      if (path.is_relative()) path = std::filesystem::path(home) / path;
      out->config_path = path.string();
    } else if (!config.IsNull()) {
      return r.Error(config, "'source.config' must be a map or a path");
    }
  }
  if (node["streams"] && !node["streams"].IsNull()) {
    ARROW_ASSIGN_OR_RAISE(out->streams, r.Strings(node["streams"], "source.streams"));
  }
  if (node["reader"]) {
    ARROW_ASSIGN_OR_RAISE(out->reader, r.String(node["reader"], "source.reader"));
  }
  if (node["uri"]) {
    ARROW_ASSIGN_OR_RAISE(out->uri, r.String(node["uri"], "source.uri"));
  }
  if (node["stream"]) {
    ARROW_ASSIGN_OR_RAISE(out->stream, r.String(node["stream"], "source.stream"));
  }
  if (node["name"]) {
    ARROW_ASSIGN_OR_RAISE(out->name, r.String(node["name"], "source.name"));
  }
  if (const auto options = node["options"]) {
    if (!options.IsMap()) return r.Error(options, "'source.options' must be a map");
    for (const auto& item : options) {
      ARROW_ASSIGN_OR_RAISE(const auto key, r.Key(item.first, "source.options"));
      ARROW_ASSIGN_OR_RAISE(out->options[key], r.Value(item.second, "source.options." + key));
    }
  }
  const std::vector<std::string> readers = ReaderNames();
  if (out->tap_argv.empty() == out->reader.empty()) {
    return r.Error(node, fmt::format("'source' needs exactly one of 'tap' (a Singer tap) or "
                                     "'reader' ({})",
                                     fmt::join(readers, ", ")));
  }
  if (!out->reader.empty() &&
      std::find(readers.begin(), readers.end(), out->reader) == readers.end()) {
    return r.Error(node["reader"],
                   fmt::format("unknown reader '{}' (use {})", out->reader, OneOf(readers)));
  }
  if (out->reader == "postgres" && !out->options.contains("table")) {
    return r.Error(node, "reader 'postgres' needs 'source.options.table' (schema.table)");
  }
  if (!out->reader.empty() && out->reader != "demo" && out->uri.empty()) {
    return r.Error(node, fmt::format("reader '{}' needs 'source.uri'", out->reader));
  }
  return arrow::Status::OK();
}

arrow::Status ParseDestination(const YamlReader& r, const YAML::Node& node, const std::string& path,
                               DestinationConfig* out) {
  ARROW_RETURN_NOT_OK(
      r.OnlyKeys(node, path,
                 {"bucket", "path", "partition_by", "compression", "compression_level",
                  "row_group_rows", "file_size_mb", "share_tables"}));
  if (node["share_tables"]) {
    ARROW_ASSIGN_OR_RAISE(out->share_tables, r.Bool(node["share_tables"], path + ".share_tables"));
  }
  if (!node["bucket"]) return r.Error(node, fmt::format("'{}.bucket' is required", path));
  ARROW_ASSIGN_OR_RAISE(out->bucket, r.String(node["bucket"], path + ".bucket"));
  // Checked here, so the error names the file and line (and every later parse succeeds).
  if (auto uri = storage::Uri::Parse(out->bucket); !uri.ok()) {
    return r.Error(node["bucket"], fmt::format("'{}.bucket': {}", path, uri.status().message()));
  }
  if (node["path"]) {
    ARROW_ASSIGN_OR_RAISE(out->path, r.String(node["path"], path + ".path"));
    if (auto checked = lake::CheckRelativePath(path + ".path", out->path); !checked.ok()) {
      return r.Error(node["path"], checked.message());
    }
  }
  if (node["partition_by"]) {
    ARROW_ASSIGN_OR_RAISE(out->partition_by,
                          r.String(node["partition_by"], path + ".partition_by"));
  }
  return parquet::ParseParquetYaml(r, node, path, &out->parquet, &out->file_size_target_bytes);
}

// incremental.streams: {<stream>: {replication_key: k, replication_method: m}}.
arrow::Status ParseStreamReplication(const YamlReader& r, const YAML::Node& node,
                                     std::map<std::string, singer::StreamReplication>* out) {
  if (!node.IsMap()) return r.Error(node, "'incremental.streams' must be a map of streams");
  for (const auto& item : node) {
    ARROW_ASSIGN_OR_RAISE(auto stream, r.String(item.first, "incremental.streams"));
    const std::string path = "incremental.streams." + stream;
    ARROW_RETURN_NOT_OK(r.OnlyKeys(item.second, path, {"replication_key", "replication_method"}));
    singer::StreamReplication& replication = (*out)[stream];
    if (item.second["replication_key"]) {
      ARROW_ASSIGN_OR_RAISE(replication.key,
                            r.String(item.second["replication_key"], path + ".replication_key"));
    }
    if (const auto method = item.second["replication_method"]) {
      ARROW_ASSIGN_OR_RAISE(replication.method, r.String(method, path + ".replication_method"));
      static const std::set<std::string> kMethods = {"INCREMENTAL", "FULL_TABLE", "LOG_BASED"};
      if (!kMethods.contains(replication.method)) {
        return r.Error(method, fmt::format("'{}.replication_method' '{}': use INCREMENTAL, "
                                           "FULL_TABLE or LOG_BASED",
                                           path, replication.method));
      }
    }
  }
  return arrow::Status::OK();
}

}  // namespace

std::string PipelineConfig::ReplicationKeyOf(const std::string& stream) const {
  auto it = stream_replication.find(stream);
  if (it != stream_replication.end() && !it->second.key.empty()) return it->second.key;
  return replication_key;
}

std::string PipelineConfig::SourceName() const {
  if (!source.name.empty()) return source.name;
  if (source.tap_argv.empty()) return source.reader;
  std::string stem = std::filesystem::path(source.tap_argv.back()).stem().string();
  if (stem.starts_with("tap-")) stem = stem.substr(4);
  return stem;
}

arrow::Result<PipelineConfig> ParsePipelineYaml(const std::string& text, const std::string& name,
                                                const std::string& where, const std::string& home) {
  const YamlReader r(where, text);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return arrow::Status::Invalid(fmt::format("{}:{}: {}", where, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) return arrow::Status::Invalid(fmt::format("{}: not a YAML map", where));
  PipelineConfig out;
  out.name = name;
  out.file = where;
  ARROW_RETURN_NOT_OK(
      r.OnlyKeys(root, "",
                 {"source", "destination", "destinations", "incremental", "schedule", "storage",
                  "on_type_error", "transform", "batch", "timeout_seconds", "name"}));
  if (!root["source"]) return r.Error(root, "'source' is required");
  ARROW_RETURN_NOT_OK(ParseSource(r, root["source"], home, &out.source));
  if (root["destination"]) {
    ARROW_RETURN_NOT_OK(
        ParseDestination(r, root["destination"], "destination", &out.destinations.emplace_back()));
  }
  if (const auto list = root["destinations"]) {
    if (!list.IsSequence()) return r.Error(list, "'destinations' must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      ARROW_RETURN_NOT_OK(ParseDestination(r, list[i], fmt::format("destinations[{}]", i),
                                           &out.destinations.emplace_back()));
    }
  }
  if (out.destinations.empty())
    return r.Error(root, "'destination' (or 'destinations') is required");
  // A run keeps one journal per bucket (lake/run_journal.h): two destinations in one bucket
  // would share it.
  for (size_t i = 1; i < out.destinations.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (storage::Uri::Parse(out.destinations[i].bucket)->ToString() ==
          storage::Uri::Parse(out.destinations[j].bucket)->ToString()) {
        return r.Error(root["destinations"][i],
                       fmt::format("destinations[{}]: bucket '{}' is destinations[{}]'s too; "
                                   "use one destination per bucket",
                                   i, out.destinations[i].bucket, j));
      }
    }
  }
  if (const auto inc = root["incremental"]) {
    ARROW_RETURN_NOT_OK(r.OnlyKeys(inc, "incremental", {"enabled", "replication_key", "streams"}));
    if (const auto streams = inc["streams"]) {
      ARROW_RETURN_NOT_OK(ParseStreamReplication(r, streams, &out.stream_replication));
    }
    if (inc["enabled"]) {
      ARROW_ASSIGN_OR_RAISE(out.incremental, r.Bool(inc["enabled"], "incremental.enabled"));
    }
    if (inc["replication_key"]) {
      ARROW_ASSIGN_OR_RAISE(out.replication_key,
                            r.String(inc["replication_key"], "incremental.replication_key"));
    }
  }
  if (const auto schedule = root["schedule"]) {
    ARROW_RETURN_NOT_OK(r.OnlyKeys(schedule, "schedule", {"cron"}));
    if (schedule["cron"] && !schedule["cron"].IsNull()) {
      ARROW_ASSIGN_OR_RAISE(out.schedule_cron, r.String(schedule["cron"], "schedule.cron"));
    }
  }
  out.storage = storage::StorageOptions::FromEnvironment();
  if (root["storage"]) ARROW_RETURN_NOT_OK(out.storage.MergeYaml(r, root["storage"]));
  if (const auto policy = root["on_type_error"]) {
    // `on_type_error: null` (as the README writes it) is YAML's null: the word is meant.
    std::string value = r.SpelledNull(policy) == "null" ? "null" : "";
    if (value.empty()) {
      ARROW_ASSIGN_OR_RAISE(value, r.String(policy, "on_type_error"));
    }
    if (value == "fail") {
      out.on_type_error = singer::OnTypeError::kFail;
    } else if (value == "null") {
      out.on_type_error = singer::OnTypeError::kNull;
    } else if (value == "string") {
      out.on_type_error = singer::OnTypeError::kString;
    } else {
      return r.Error(policy, fmt::format("on_type_error '{}': use fail, null or string", value));
    }
  }
  if (const auto transform = root["transform"]) {
    ARROW_RETURN_NOT_OK(r.OnlyKeys(transform, "transform", {"sql"}));
    if (transform["sql"]) {
      ARROW_ASSIGN_OR_RAISE(out.transform_sql, r.String(transform["sql"], "transform.sql"));
    }
  }
  if (const auto batch = root["batch"]) {
    ARROW_RETURN_NOT_OK(r.OnlyKeys(batch, "batch", {"rows", "bytes_mb"}));
    if (batch["rows"]) {
      ARROW_ASSIGN_OR_RAISE(out.batch_rows, r.Int(batch["rows"], "batch.rows"));
    }
    if (batch["bytes_mb"]) {
      ARROW_ASSIGN_OR_RAISE(out.batch_bytes, r.Megabytes(batch["bytes_mb"], "batch.bytes_mb"));
    }
    if (out.batch_rows <= 0) return r.Error(batch, "'batch.rows' must be positive");
  }
  if (root["timeout_seconds"]) {
    ARROW_ASSIGN_OR_RAISE(auto seconds, r.Int(root["timeout_seconds"], "timeout_seconds"));
    out.timeout_seconds = static_cast<double>(seconds);
  }
  // Both become path segments in the bucket (lake/path_segment.h).
  if (auto checked = lake::CheckPathName("pipeline", out.name); !checked.ok()) {
    return arrow::Status::Invalid(fmt::format("{}: {}", where, checked.message()));
  }
  if (auto checked = lake::CheckPathName("source", out.SourceName()); !checked.ok()) {
    return r.Error(root["source"], checked.message());
  }
  return out;
}

arrow::Result<PipelineConfig> LoadPipelineFile(const std::string& path, const std::string& name,
                                               const std::string& home) {
  std::ifstream in(path);
  if (!in) return arrow::Status::IOError(fmt::format("cannot read pipeline file '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  ARROW_ASSIGN_OR_RAISE(auto config, ParsePipelineYaml(text.str(), name, path, home));
  const auto transform = std::filesystem::path(home) / "transforms" / (name + ".py");
  if (std::filesystem::exists(transform)) config.python_transform = transform.string();
  return config;
}

}  // namespace lakepipe::pipeline
