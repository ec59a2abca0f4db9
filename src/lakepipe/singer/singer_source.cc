#include "lakepipe/singer/singer_source.h"

#include <unistd.h>

#include <map>
#include <set>
#include <utility>

#include <arrow/type.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "lakepipe/singer/json_schema.h"
#include "lakepipe/singer/message_reader.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::singer {
namespace {

struct StreamState {
  std::string schema_json;
  std::shared_ptr<arrow::Schema> schema;
  std::unique_ptr<RecordBatchBuilder> builder;
};

arrow::Status At(const arrow::Status& status, std::string_view stream, int64_t line) {
  if (status.ok()) return status;
  return status.WithMessage(
      fmt::format("stream '{}', line {}: {}", stream, line, status.message()));
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
    if (state.schema && state.schema->Equals(*schema, /*check_metadata=*/true)) {
      state.schema_json = std::string(m.body);
      return arrow::Status::OK();
    }
    ARROW_RETURN_NOT_OK(FlushStream(name, state, sink_));
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
    ARROW_RETURN_NOT_OK(At(state.builder->Append(m.body), m.stream, m.line));
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

arrow::Result<nlohmann::json> SingerSource::DiscoverAndSelect(const SingerSourceOptions& options) {
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
  nlohmann::json catalog;
  try {
    catalog = nlohmann::json::parse(output);
  } catch (const nlohmann::json::exception& e) {
    return arrow::Status::Invalid(
        fmt::format("discovery: tap '{}' printed no valid catalog: {}", tap->name(), e.what()));
  }
  if (!catalog.contains("streams") || !catalog["streams"].is_array()) {
    return arrow::Status::Invalid(
        fmt::format("discovery: tap '{}' catalog has no \"streams\"", tap->name()));
  }
  std::set<std::string> wanted(options.streams.begin(), options.streams.end());
  std::set<std::string> found;
  for (auto& stream : catalog["streams"]) {
    const std::string id = stream.value("tap_stream_id", stream.value("stream", ""));
    const std::string name = stream.value("stream", id);
    const bool selected = wanted.contains(id) || wanted.contains(name);
    if (selected) found.insert(wanted.contains(id) ? id : name);
    // Both selection conventions: the metadata breadcrumb and the legacy schema flag.
    if (stream.contains("schema") && stream["schema"].is_object())
      stream["schema"]["selected"] = selected;
    auto& metadata = stream["metadata"];
    if (!metadata.is_array()) metadata = nlohmann::json::array();
    bool has_root = false;
    for (auto& entry : metadata) {
      if (entry.value("breadcrumb", nlohmann::json::array()).empty()) {
        entry["metadata"]["selected"] = selected;
        has_root = true;
      }
    }
    if (!has_root) {
      metadata.push_back(
          {{"breadcrumb", nlohmann::json::array()}, {"metadata", {{"selected", selected}}}});
    }
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
  if (!options_.streams.empty()) {
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
      std::string tail = tap->StderrTail();
      if (tail.size() > kKeep) tail.erase(0, tail.size() - kKeep);
      // A tap may print any bytes, and cutting can split a character: keep valid UTF-8
      // (JSON documents must be), replacing what is not.
      tail = nlohmann::json::parse(nlohmann::json(tail).dump(
                                       -1, ' ', false, nlohmann::json::error_handler_t::replace))
                 .get<std::string>();
      *details = {{"tap", tap->name()},
                  {"stderr_lines", tap->stderr_lines()},
                  {"warning_lines", tap->warning_lines()},
                  {"stderr_tail", tail}};
    }
  } record_stderr{&details_, tap.get()};
  Consumer consumer(options_, sink, cancelled_);
  auto status = consumer.Run(tap->stdout_fd());
  if (status.ok()) {
    status = tap->Wait();
    SetRunning(nullptr);
    // Cancel() stopped the tap: its output ended early and its exit says "killed".
    if (cancelled_.load()) return arrow::Status::Cancelled("run cancelled");
    if (status.ok() && consumer.records() == 0 && tap->warning_lines() > 0) {
      // An empty run is often right; one after warnings (a missing file) rarely is.
      spdlog::warn("tap '{}' wrote no records and {} warning line(s) on stderr (the last: {})",
                   tap->name(), tap->warning_lines(), storage::RedactSecrets(tap->LastWarning()));
    }
    return status;
  }
  // Our error: stop the tap. But a tap that died on its own (its last line cut short)
  // matters more than the cut line: then say both.
  const bool died_on_its_own = !status.IsCancelled() && tap->ExitsWithin(1.0);
  if (!died_on_its_own) tap->Terminate();
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
  if (running_ != nullptr) running_->Terminate();
}

}  // namespace lakepipe::singer
