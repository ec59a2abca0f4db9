#include "lakepipe/singer/singer_source.h"

#include <unistd.h>

#include <map>
#include <set>
#include <utility>

#include <arrow/type.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/singer/json_schema.h"
#include "lakepipe/singer/message_reader.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::singer {
namespace {

struct StreamState {
  std::string schema_json;
  std::shared_ptr<arrow::Schema> schema;
  std::unique_ptr<RecordBatchBuilder> builder;
  /// Counts of the builders this stream had before `builder` (a new SCHEMA starts one).
  FieldCounts dropped;
  FieldCounts nulled;
  /// Paths already warned about, so each is said once per run.
  std::set<std::string, std::less<>> warned;
};

void AddCounts(const FieldCounts& from, FieldCounts* into) {
  for (const auto& [path, counted] : from) {
    auto& total = (*into)[path];
    if (total.count == 0) total.first = counted.first;
    total.count += counted.count;
  }
}

nlohmann::json CountsJson(const FieldCounts& counts) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [path, counted] : counts) {
    if (counted.count > 0) out[path] = counted.count;
  }
  return out;
}

arrow::Status At(const arrow::Status& status, std::string_view stream, int64_t line) {
  return WithSubject(status, {Subject::Stream(std::string(stream)), Subject::Line(line)});
}

// A SCHEMA message's list of property names ("key_properties"); absent is empty.
arrow::Result<std::vector<std::string>> NameList(std::string_view raw, const char* what) {
  std::vector<std::string> names;
  if (raw.empty()) return names;
  try {
    const auto json = nlohmann::json::parse(raw);
    if (json.is_null()) return names;
    for (const auto& name : json) names.push_back(name.get<std::string>());
  } catch (const nlohmann::json::exception&) {
    return arrow::Status::Invalid("\"", what, "\" must be a list of property names");
  }
  return names;
}

arrow::Status FlushStream(const std::string& name, StreamState& state, sources::IngestSink* sink) {
  if (!state.builder || state.builder->num_rows() == 0) return arrow::Status::OK();
  ARROW_ASSIGN_OR_RAISE(auto batch, state.builder->Flush());
  return sink->OnBatch(name, batch);
}

// Reads every message of the tap's output into the sink.
class Consumer {
 public:
  Consumer(const SingerSourceOptions& options, sources::IngestSink* sink,
           const std::atomic<bool>& cancelled)
      : options_(options),
        sink_(sink),
        cancelled_(cancelled),
        selected_(options.streams.begin(), options.streams.end()) {}

  arrow::Status Run(int fd) {
    ARROW_ASSIGN_OR_RAISE(auto reader, MessageReader::Make(fd));
    for (;;) {
      if (cancelled_.load()) return arrow::Status::Cancelled("run cancelled");
      ARROW_ASSIGN_OR_RAISE(const Message* message, reader->Next());
      if (message == nullptr) break;
      ARROW_RETURN_NOT_OK(Handle(*message));
    }
    for (auto& [name, state] : streams_) ARROW_RETURN_NOT_OK(FlushStream(name, state, sink_));
    return arrow::Status::OK();
  }

  /// RECORD messages of selected streams so far.
  int64_t records() const { return records_; }

 private:
  bool Selected(std::string_view stream) const {
    return selected_.empty() || selected_.contains(std::string(stream));
  }

  arrow::Status Handle(const Message& m) {
    switch (m.type) {
      case MessageType::kSchema: {
        ARROW_RETURN_NOT_OK(At(OnSchema(m), m.stream, m.line));
        return std::exchange(sink_status_, arrow::Status::OK());  // the sink names its subject
      }
      case MessageType::kRecord:
        return OnRecord(m);
      case MessageType::kState:
        return At(OnState(m), "*", m.line);
      case MessageType::kActivateVersion:
        return arrow::Status::OK();
      case MessageType::kBatch:
      case MessageType::kUnknown:
        if (warned_.insert(std::string(m.type_name)).second) {
          spdlog::warn("line {}: ignoring Singer message type '{}'", m.line, m.type_name);
        }
        return arrow::Status::OK();
    }
    return arrow::Status::OK();
  }

  arrow::Status OnSchema(const Message& m) {
    if (m.stream.empty()) return arrow::Status::Invalid("SCHEMA message has no \"stream\"");
    if (!Selected(m.stream)) return arrow::Status::OK();
    const std::string name(m.stream);
    auto& state = streams_[name];
    if (state.builder && state.schema_json == m.body) return arrow::Status::OK();  // resent
    // Ordered: the table's columns follow the order of the schema's properties.
    nlohmann::ordered_json schema_json;
    try {
      schema_json = nlohmann::ordered_json::parse(m.body);
    } catch (const nlohmann::json::exception& e) {
      return arrow::Status::Invalid(fmt::format("invalid schema: {}", e.what()));
    }
    ARROW_ASSIGN_OR_RAISE(auto schema, JsonSchemaToArrow(schema_json));
    ARROW_ASSIGN_OR_RAISE(auto key_properties, NameList(m.key_properties, "key_properties"));
    ARROW_ASSIGN_OR_RAISE(auto bookmark_properties,
                          NameList(m.bookmark_properties, "bookmark_properties"));
    ARROW_RETURN_NOT_OK(sink_->OnKeys(name, key_properties, bookmark_properties));
    if (state.schema && state.schema->Equals(*schema, /*check_metadata=*/true)) {
      state.schema_json = std::string(m.body);
      return arrow::Status::OK();
    }
    ARROW_RETURN_NOT_OK(FlushStream(name, state, sink_));
    if (state.builder) {
      AddCounts(state.builder->dropped_fields(), &state.dropped);
      AddCounts(state.builder->nulled_values(), &state.nulled);
    }
    ARROW_ASSIGN_OR_RAISE(state.builder, RecordBatchBuilder::Make(schema, options_.on_type_error));
    state.schema = schema;
    state.schema_json = std::string(m.body);
    sink_status_ = sink_->OnSchema(name, schema);
    return arrow::Status::OK();
  }

  arrow::Status OnRecord(const Message& m) {
    if (!Selected(m.stream)) return arrow::Status::OK();
    ++records_;
    auto it = streams_.find(m.stream);
    if (it == streams_.end()) {
      return At(arrow::Status::Invalid("RECORD before the stream's SCHEMA"), m.stream, m.line);
    }
    if (m.body.empty())
      return At(arrow::Status::Invalid("RECORD has no \"record\""), m.stream, m.line);
    auto& state = it->second;
    const size_t paths_before =
        state.builder->dropped_fields().size() + state.builder->nulled_values().size();
    ARROW_RETURN_NOT_OK(At(state.builder->Append(m.body), m.stream, m.line));
    if (state.builder->dropped_fields().size() + state.builder->nulled_values().size() !=
        paths_before) {
      WarnNewPaths(m, state);
    }
    if (state.builder->schema() != state.schema) {
      // on_type_error: string turned a column to text; the builder re-read its unflushed
      // rows, so from here on the stream's batches (and its new file) have the new schema.
      spdlog::warn("stream '{}', line {}: {}; the column is stored as text from here on", m.stream,
                   m.line, state.builder->last_text_fallback());
      state.schema = state.builder->schema();
      ARROW_RETURN_NOT_OK(sink_->OnSchema(it->first, state.schema));
    }
    if (state.builder->num_rows() >= options_.batch_rows ||
        state.builder->estimated_bytes() >= options_.batch_bytes) {
      return FlushStream(it->first, state, sink_);
    }
    return arrow::Status::OK();
  }

  // Nothing is dropped or nulled silently: the first time a field is, say so (the run log
  // counts every time, see FieldReport()).
  void WarnNewPaths(const Message& m, StreamState& state) {
    for (const auto& [path, dropped] : state.builder->dropped_fields()) {
      if (!state.warned.insert("dropped:" + path).second) continue;
      spdlog::warn(
          "stream '{}', line {}: field '{}' is not in the stream's schema and is not stored "
          "(counted in the run log)",
          m.stream, m.line, path);
    }
    for (const auto& [path, nulled] : state.builder->nulled_values()) {
      if (!state.warned.insert("nulled:" + path).second) continue;
      spdlog::warn(
          "stream '{}', line {}: field '{}': {}; stored as NULL (on_type_error: null; counted "
          "in the run log)",
          m.stream, m.line, path, nulled.first);
    }
  }

 public:
  /// For the run log: {"dropped_fields": {stream: {path: n}}, "nulled_values": {...}}, only
  /// the streams that had any.
  nlohmann::json FieldReport() const {
    nlohmann::json dropped = nlohmann::json::object();
    nlohmann::json nulled = nlohmann::json::object();
    for (const auto& [name, state] : streams_) {
      FieldCounts stream_dropped = state.dropped;
      FieldCounts stream_nulled = state.nulled;
      if (state.builder) {
        AddCounts(state.builder->dropped_fields(), &stream_dropped);
        AddCounts(state.builder->nulled_values(), &stream_nulled);
      }
      if (auto j = CountsJson(stream_dropped); !j.empty()) dropped[name] = j;
      if (auto j = CountsJson(stream_nulled); !j.empty()) nulled[name] = j;
    }
    nlohmann::json report = nlohmann::json::object();
    if (!dropped.empty()) report["dropped_fields"] = dropped;
    if (!nulled.empty()) report["nulled_values"] = nulled;
    return report;
  }

 private:
  arrow::Status OnState(const Message& m) {
    try {
      return sink_->OnState(nlohmann::json::parse(m.body));
    } catch (const nlohmann::json::exception& e) {
      return arrow::Status::Invalid(fmt::format("invalid STATE value: {}", e.what()));
    }
  }

  const SingerSourceOptions& options_;
  sources::IngestSink* sink_;
  const std::atomic<bool>& cancelled_;
  std::set<std::string> selected_;
  std::map<std::string, StreamState, std::less<>> streams_;
  std::set<std::string> warned_;
  arrow::Status sink_status_;
  int64_t records_ = 0;
};

}  // namespace

namespace {

// Marks one catalog entry selected or not, and asks for `replication` when selected. Both
// conventions are written: the root metadata breadcrumb (Singer spec; pipelinewise reads
// it) and the entry's own fields (the legacy schema flag; the Meltano SDK's
// replication_method / replication_key).
void Select(nlohmann::ordered_json& stream, bool selected, const StreamReplication& replication) {
  if (stream.contains("schema") && stream["schema"].is_object()) {
    stream["schema"]["selected"] = selected;
  }
  auto& metadata = stream["metadata"];
  if (!metadata.is_array()) metadata = nlohmann::ordered_json::array();
  nlohmann::ordered_json* root = nullptr;
  for (auto& entry : metadata) {
    if (entry.is_object() && entry.value("breadcrumb", nlohmann::ordered_json::array()).empty()) {
      root = &entry["metadata"];
    }
  }
  if (root == nullptr) {
    metadata.push_back({{"breadcrumb", nlohmann::ordered_json::array()},
                        {"metadata", nlohmann::ordered_json::object()}});
    root = &metadata.back()["metadata"];
  }
  (*root)["selected"] = selected;
  if (!selected) return;
  if (!replication.method.empty()) {
    (*root)["replication-method"] = replication.method;
    stream["replication_method"] = replication.method;
  }
  if (!replication.key.empty()) {
    (*root)["replication-key"] = replication.key;
    stream["replication_key"] = replication.key;
  }
}

}  // namespace

arrow::Result<nlohmann::ordered_json> SingerSource::DiscoverAndSelect(
    const SingerSourceOptions& options) {
  TapLaunch launch{options.tap_argv, options.config, std::nullopt,
                   std::nullopt,     {"--discover"}, options.timeout_seconds};
  ARROW_ASSIGN_OR_RAISE(auto tap, TapProcess::Start(launch));
  std::string output;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(tap->stdout_fd(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  auto status = tap->Wait();
  if (!status.ok()) return status.WithMessage(fmt::format("discovery: {}", status.message()));
  // Ordered: the tap builds its SCHEMA messages from this catalog, so a sorted copy would
  // sort the table's columns.
  nlohmann::ordered_json catalog;
  try {
    catalog = nlohmann::ordered_json::parse(output);
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(
        fmt::format("discovery: tap '{}' printed no valid catalog: {}", tap->name(), e.what()));
  }
  if (!catalog.is_object() || !catalog.contains("streams") || !catalog["streams"].is_array()) {
    return arrow::Status::Invalid(
        fmt::format("discovery: tap '{}' catalog has no \"streams\"", tap->name()));
  }
  std::set<std::string> wanted(options.streams.begin(), options.streams.end());
  std::set<std::string> found;
  for (auto& stream : catalog["streams"]) {
    if (!stream.is_object()) continue;
    const std::string id = stream.value("tap_stream_id", stream.value("stream", ""));
    const std::string name = stream.value("stream", id);
    const bool selected = wanted.empty() || wanted.contains(id) || wanted.contains(name);
    if (selected) found.insert(wanted.contains(id) ? id : name);
    StreamReplication replication = options.replication;
    for (const auto& candidate : {id, name}) {
      auto it = options.stream_replication.find(candidate);
      if (it == options.stream_replication.end()) continue;
      if (!it->second.method.empty()) replication.method = it->second.method;
      if (!it->second.key.empty()) replication.key = it->second.key;
      break;
    }
    Select(stream, selected, replication);
  }
  for (const auto& name : wanted) {
    if (!found.contains(name)) {
      return arrow::Status::Invalid(
          fmt::format("stream '{}' is not in the catalog of tap '{}'", name, tap->name()));
    }
  }
  return catalog;
}

arrow::Status SingerSource::Run(sources::IngestSink* sink) {
  TapLaunch launch{options_.tap_argv,       options_.config, options_.state, std::nullopt, {},
                   options_.timeout_seconds};
  if (options_.NeedsCatalog()) {
    ARROW_ASSIGN_OR_RAISE(launch.catalog, DiscoverAndSelect(options_));
  }
  ARROW_ASSIGN_OR_RAISE(auto tap, TapProcess::Start(launch));
  SetRunning(tap.get());
  // Whatever happens below, the log keeps what the tap said on stderr.
  struct RecordStderr {
    nlohmann::json* details;
    TapProcess* tap;
    ~RecordStderr() {
      constexpr size_t kKeep = 16 * 1024;
      std::string tail = tap->process().StderrTail();
      if (tail.size() > kKeep) tail.erase(0, tail.size() - kKeep);
      // A tap may print any bytes, and cutting can split a character: keep valid UTF-8
      // (JSON documents must be), replacing what is not.
      tail = nlohmann::json::parse(nlohmann::json(tail).dump(
                                       -1, ' ', false, nlohmann::json::error_handler_t::replace))
                 .get<std::string>();
      *details = {{"tap", tap->name()},
                  {"stderr_lines", tap->process().stderr_lines()},
                  {"warning_lines", tap->process().warning_lines()},
                  {"stderr_tail", tail}};
    }
  } record_stderr{&details_, tap.get()};
  Consumer consumer(options_, sink, cancelled_);
  auto status = consumer.Run(tap->stdout_fd());
  field_report_ = consumer.FieldReport();
  if (status.ok()) {
    status = tap->Wait();
    SetRunning(nullptr);
    // Cancel() stopped the tap: its output ended early and its exit says "killed".
    if (cancelled_.load()) return arrow::Status::Cancelled("run cancelled");
    if (status.ok() && consumer.records() == 0 && tap->process().warning_lines() > 0) {
      // An empty run is often right; one after warnings (a missing file) rarely is.
      spdlog::warn("tap '{}' wrote no records and {} warning line(s) on stderr (the last: {})",
                   tap->name(), tap->process().warning_lines(),
                   storage::RedactSecrets(tap->process().LastWarning()));
    }
    return status;
  }
  // Our error: stop the tap. But a tap that died on its own (its last line cut short)
  // matters more than the cut line: then say both.
  const bool died_on_its_own = !status.IsCancelled() && tap->process().ExitsWithin(1.0);
  if (!died_on_its_own) tap->process().Terminate();
  auto exit_status = tap->Wait();
  SetRunning(nullptr);
  if (died_on_its_own && !exit_status.ok()) {
    return status.WithMessage(fmt::format("{} ({})", status.message(), exit_status.message()));
  }
  return status;
}

void SingerSource::SetRunning(TapProcess* tap) {
  std::lock_guard lock(running_mutex_);
  running_ = tap;
}

void SingerSource::Cancel() {
  std::lock_guard lock(running_mutex_);
  cancelled_ = true;
  if (running_ != nullptr) running_->process().Terminate();
}

}  // namespace lakepipe::singer
