#include "lakepipe/singer/message_reader.h"

#include <unistd.h>

#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "lakepipe/common/error_subject.h"

namespace lakepipe::singer {
namespace {

// The raw JSON text of any value: objects and arrays through raw_json(), scalars through
// raw_json_token() (which includes trailing spaces, trimmed here).
simdjson::error_code RawJson(simdjson::ondemand::value value, std::string_view* out) {
  simdjson::ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object object;
    if (auto error = value.get_object().get(object)) return error;
    return object.raw_json().get(*out);
  }
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array array;
    if (auto error = value.get_array().get(array)) return error;
    return array.raw_json().get(*out);
  }
  std::string_view token = value.raw_json_token();
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r')) {
    token.remove_suffix(1);
  }
  *out = token;
  return simdjson::SUCCESS;
}

MessageType TypeOf(std::string_view name) {
  if (name == "RECORD") return MessageType::kRecord;
  if (name == "SCHEMA") return MessageType::kSchema;
  if (name == "STATE") return MessageType::kState;
  if (name == "ACTIVATE_VERSION") return MessageType::kActivateVersion;
  if (name == "BATCH") return MessageType::kBatch;
  return MessageType::kUnknown;
}

/// Python taps write float('nan') and float('inf') as the bare tokens NaN, Infinity and
/// -Infinity (json.dumps does by default), which JSON does not have. Outside strings they
/// are rewritten into the strings "NaN", "Infinity" and "-Infinity", which number columns
/// read as the IEEE values. Returns false (and leaves `out` alone) when the line has none.
bool QuoteNonFiniteNumbers(std::string_view line, std::string* out) {
  if (line.find("NaN") == line.npos && line.find("Infinity") == line.npos) return false;
  std::string rewritten;
  rewritten.reserve(line.size() + 16);
  bool in_string = false;
  bool changed = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      rewritten += c;
      if (c == '\\' && i + 1 < line.size()) {
        rewritten += line[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (std::string_view token : {"NaN", "Infinity", "-Infinity"}) {
      if (line.substr(i, token.size()) == token) {
        rewritten += '"';
        rewritten += token;
        rewritten += '"';
        i += token.size() - 1;
        replaced = changed = true;
        break;
      }
    }
    if (!replaced) rewritten += c;
  }
  if (!changed) return false;
  *out = std::move(rewritten);
  return true;
}

class FdMessageReader : public MessageReader {
 public:
  FdMessageReader(int fd, int64_t max_line_bytes, int64_t read_bytes)
      : fd_(fd), max_line_bytes_(max_line_bytes) {
    buffer_.resize(static_cast<size_t>(read_bytes) + simdjson::SIMDJSON_PADDING);
  }

  arrow::Result<const Message*> Next() override {
    for (;;) {
      ARROW_ASSIGN_OR_RAISE(auto line, NextLine());
      if (!line.data()) return nullptr;
      ++line_number_;
      // Blank lines (and a stray '\r') carry nothing.
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
      if (line.empty()) continue;
      ARROW_RETURN_NOT_OK(Parse(line));
      return &message_;
    }
  }

  int64_t bytes_read() const override { return consumed_total_; }

 private:
  arrow::Status Error(const std::string& what) const {
    return WithSubject(arrow::Status::Invalid(what), Subject::Line(line_number_));
  }

  // Returns the next line without its '\n'; a null view at the end of input.
  arrow::Result<std::string_view> NextLine() {
    for (;;) {
      const char* begin = buffer_.data() + start_;
      const char* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - start_));
      if (newline != nullptr) {
        std::string_view line(begin, static_cast<size_t>(newline - begin));
        start_ += line.size() + 1;
        consumed_total_ += static_cast<int64_t>(line.size() + 1);
        return line;
      }
      if (eof_) {
        if (start_ == end_) return std::string_view();
        std::string_view line(begin, end_ - start_);  // last line without '\n'
        consumed_total_ += static_cast<int64_t>(line.size());
        start_ = end_;
        return line;
      }
      ARROW_RETURN_NOT_OK(Fill());
    }
  }

  // Moves the partial line to the front and reads more, growing for long lines.
  arrow::Status Fill() {
    const size_t pending = end_ - start_;
    if (start_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start_, pending);
      start_ = 0;
      end_ = pending;
    }
    const size_t capacity = buffer_.size() - simdjson::SIMDJSON_PADDING;
    if (end_ == capacity) {
      // The buffer holds one partial line. A line of max_line_bytes_ needs one byte more,
      // for its '\n' or to read the end of the input after it.
      if (static_cast<int64_t>(capacity) > max_line_bytes_) {
        return WithSubject(
            arrow::Status::Invalid(fmt::format("longer than {} bytes", max_line_bytes_)),
            Subject::Line(line_number_ + 1));
      }
      buffer_.resize(std::min<size_t>(capacity * 2, max_line_bytes_ + 1) +
                     simdjson::SIMDJSON_PADDING);
    }
    const size_t room = buffer_.size() - simdjson::SIMDJSON_PADDING - end_;
    ssize_t n;
    do {
      n = ::read(fd_, buffer_.data() + end_, room);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
      return arrow::Status::IOError(fmt::format("reading tap output: {}", strerror(errno)));
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    return arrow::Status::OK();
  }

  arrow::Status Parse(std::string_view line) {
    message_ = Message{};
    message_.line = line_number_;
    // The line lives in buffer_, which has padding past the valid data; a rewritten line
    // lives in rewritten_, padded the same way. Message views point into either until the
    // next call.
    size_t capacity = static_cast<size_t>(buffer_.data() + buffer_.size() - line.data());
    if (QuoteNonFiniteNumbers(line, &rewritten_)) {
      const size_t size = rewritten_.size();
      rewritten_.resize(size + simdjson::SIMDJSON_PADDING);
      line = std::string_view(rewritten_.data(), size);
      capacity = rewritten_.size();
    }
    simdjson::ondemand::document doc;
    auto error = parser_.iterate(line.data(), line.size(), capacity).get(doc);
    if (error) return Error(fmt::format("invalid JSON: {}", simdjson::error_message(error)));
    simdjson::ondemand::object object;
    if (doc.get_object().get(object)) return Error("not a JSON object");
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return Error("invalid JSON key");
      simdjson::ondemand::value value;
      if (field.value().get(value)) return Error("invalid JSON value");
      if (key == "type") {
        if (value.get_string().get(message_.type_name)) return Error("\"type\" is not a string");
        message_.type = TypeOf(message_.type_name);
      } else if (key == "stream") {
        if (value.get_string().get(message_.stream)) return Error("\"stream\" is not a string");
      } else if (key == "record" || key == "schema" || key == "value") {
        if (RawJson(value, &message_.body)) return Error(fmt::format("invalid \"{}\"", key));
      } else if (key == "key_properties") {
        if (RawJson(value, &message_.key_properties)) return Error("invalid \"key_properties\"");
      } else if (key == "bookmark_properties") {
        if (RawJson(value, &message_.bookmark_properties)) {
          return Error("invalid \"bookmark_properties\"");
        }
      } else {
        // Skip what we do not use (time_extracted, version).
        std::string_view ignored;
        if (RawJson(value, &ignored)) return Error(fmt::format("invalid \"{}\"", key));
      }
    }
    if (message_.type_name.empty()) return Error("message has no \"type\"");
    // Unescaped strings live in the parser's buffer, valid until the next iterate().
    return arrow::Status::OK();
  }

  int fd_;
  int64_t max_line_bytes_;
  std::vector<char> buffer_;
  std::string rewritten_;
  size_t start_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  int64_t line_number_ = 0;
  int64_t consumed_total_ = 0;
  simdjson::ondemand::parser parser_;
  Message message_;
};

}  // namespace

arrow::Result<std::unique_ptr<MessageReader>> MessageReader::Make(int fd, int64_t max_line_bytes,
                                                                  int64_t read_bytes) {
  if (max_line_bytes < 1 || read_bytes < 1) {
    return arrow::Status::Invalid("message reader: line limit and read size must be positive");
  }
  return std::make_unique<FdMessageReader>(fd, max_line_bytes, read_bytes);
}

}  // namespace lakepipe::singer
