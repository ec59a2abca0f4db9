#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arrow/result.h>

namespace lakepipe::singer {

/// Kinds of Singer messages.
enum class MessageType { kSchema, kRecord, kState, kActivateVersion, kBatch, kUnknown };

/// One Singer message, borrowed from the reader's buffer: every string_view is valid until
/// the next call to Next(). `body` is the raw JSON of "record" (RECORD), "schema"
/// (SCHEMA) or "value" (STATE), followed in memory by at least SIMDJSON_PADDING readable
/// bytes, so it can be handed to simdjson without a copy.
struct Message {
  MessageType type = MessageType::kUnknown;
  std::string_view type_name;
  std::string_view stream;
  std::string_view body;
  /// SCHEMA only: raw JSON of "key_properties" (empty when absent).
  std::string_view key_properties;
  /// SCHEMA only: raw JSON of "bookmark_properties" (empty when absent).
  std::string_view bookmark_properties;
  /// 1-based line number in the tap's output.
  int64_t line = 0;
};

/// Reads newline-delimited Singer messages from a file descriptor (a tap's stdout) with
/// simdjson, in large reads, without copying lines. Blank lines are skipped. Lines up to
/// `max_line_bytes` long (without their '\n') are accepted (a longer one is an error naming
/// the line). Not thread-safe.
class MessageReader {
 public:
  /// `read_bytes` is the size of each read() and of the initial buffer, which grows for
  /// longer lines.
  static arrow::Result<std::unique_ptr<MessageReader>> Make(int fd,
                                                            int64_t max_line_bytes = 1LL << 30,
                                                            int64_t read_bytes = 4LL << 20);
  virtual ~MessageReader() = default;

  /// The next message, or nullptr at the end of the input. Errors ("line 12: invalid
  /// JSON: ...", "line 3: message has no \"type\"") name the line; the caller adds the
  /// pipeline and stream.
  virtual arrow::Result<const Message*> Next() = 0;

  /// Bytes consumed so far.
  virtual int64_t bytes_read() const = 0;
};

}  // namespace lakepipe::singer
