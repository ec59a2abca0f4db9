// Fuzzes singer::MessageReader: a tap's stdout, delivered in reads of fuzzer-chosen sizes.
//
// Input: byte 0 picks the line limit, byte 1 the read size and byte 2 the chunk sizes; the
// rest is the tap's output. The output goes through a non-blocking pipe one chunk at a time:
// when the reader finds the pipe empty (EAGAIN) the next chunk is written, or the pipe is
// closed after the last one. So each read() returns exactly one chunk, deterministically,
// and lines straddle reads and buffer growth the way they do with a real tap.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "lakepipe/singer/message_reader.h"

namespace {

using lakepipe::singer::Message;
using lakepipe::singer::MessageReader;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "message_reader_fuzzer: %s\n", what.c_str());
  std::abort();
}

/// The write end of the pipe, fed one chunk per call.
class Feeder {
 public:
  Feeder(int fd, std::string_view data, uint8_t seed) : fd_(fd), data_(data), state_(seed) {}
  ~Feeder() { Close(); }

  /// Writes the next chunk; false (and the pipe closed) when there is none left.
  bool Next() {
    if (data_.empty()) {
      Close();
      return false;
    }
    // Seed 0: everything in one read. Otherwise 1..64 bytes from a small LCG.
    size_t n = data_.size();
    if (state_ != 0) {
      state_ = state_ * 1103515245u + 12345u;
      n = std::min<size_t>(n, 1 + (state_ >> 16) % 64);
    }
    const ssize_t written = ::write(fd_, data_.data(), n);
    if (written != static_cast<ssize_t>(n)) Fail("short write to the pipe");
    data_.remove_prefix(n);
    return true;
  }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_;
  std::string_view data_;
  uint32_t state_;
};

/// Reads every byte of `view` (ASan checks each is in bounds) into a checksum.
uint64_t Touch(std::string_view view, uint64_t sum) {
  for (char c : view) sum = sum * 131 + static_cast<unsigned char>(c);
  return sum;
}

/// Length of the 1-based line `number` of `text` (lines split on '\n'); -1 past the end.
int64_t LineLength(std::string_view text, int64_t number) {
  for (int64_t i = 1; i < number; ++i) {
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) return -1;
    text.remove_prefix(newline + 1);
  }
  return static_cast<int64_t>(text.substr(0, text.find('\n')).size());
}

void CheckMessage(const Message& m, int64_t previous_line) {
  if (m.line <= previous_line) Fail("line numbers do not increase");
  if (m.type_name.empty()) Fail("message without a type was returned");
  volatile uint64_t sum = 0;
  sum = Touch(m.type_name, Touch(m.stream, Touch(m.key_properties, Touch(m.body, 0))));
  // The contract: SIMDJSON_PADDING readable bytes follow the body.
  if (!m.body.empty()) {
    sum = sum +
          static_cast<unsigned char>(m.body.data()[m.body.size() + simdjson::SIMDJSON_PADDING - 1]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const int64_t max_line_bytes = 1 + data[0] * 4;  // 1..1021
  const int64_t read_bytes = 1 + data[1] % 128;
  const uint8_t seed = data[2];
  const std::string_view text(reinterpret_cast<const char*>(data) + 3, size - 3);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) Fail("pipe2");
  if (::fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) Fail("fcntl");
  Feeder feeder(fds[1], text, seed);
  auto reader = MessageReader::Make(fds[0], max_line_bytes, read_bytes).ValueOrDie();

  int64_t last_line = 0;
  for (;;) {
    auto next = reader->Next();
    if (!next.ok()) {
      const std::string message = next.status().message();
      if (next.status().IsIOError() &&
          message.find("temporarily unavailable") != std::string::npos) {
        // The pipe is empty: hand over the next chunk (or the end) and read on.
        feeder.Next();
        continue;
      }
      // A line over the limit must really be longer than the limit.
      long number = 0;
      if (std::sscanf(message.c_str(), "line %ld:", &number) == 1 &&
          message == "line " + std::to_string(number) + ": longer than " +
                         std::to_string(max_line_bytes) + " bytes") {
        const int64_t length = LineLength(text, number);
        if (length <= max_line_bytes) {
          Fail("line " + std::to_string(number) + " of " + std::to_string(length) +
               " bytes refused with a limit of " + std::to_string(max_line_bytes));
        }
      }
      break;
    }
    const Message* m = *next;
    if (m == nullptr) {
      if (reader->bytes_read() != static_cast<int64_t>(text.size())) {
        Fail("bytes_read " + std::to_string(reader->bytes_read()) + " at the end of " +
             std::to_string(text.size()) + " bytes");
      }
      break;
    }
    CheckMessage(*m, last_line);
    last_line = m->line;
  }
  ::close(fds[0]);
  return 0;
}
