#include "lakepipe/singer/message_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

namespace lakepipe::singer {
namespace {

constexpr char kState[] = R"({"type":"STATE","value":{"n":1}})";  // 32 bytes

/// A pipe holding `text` with its write end closed, read back by a reader.
class PipeInput {
 public:
  explicit PipeInput(const std::string& text) {
    EXPECT_EQ(::pipe2(fds_, O_CLOEXEC), 0);
    EXPECT_EQ(::write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds_[1]);
  }
  ~PipeInput() { ::close(fds_[0]); }
  int fd() const { return fds_[0]; }

 private:
  int fds_[2];
};

/// Every message's type name until the end, or the first error's message.
std::string ReadAll(const std::string& text, int64_t max_line_bytes, int64_t read_bytes) {
  PipeInput input(text);
  auto reader = MessageReader::Make(input.fd(), max_line_bytes, read_bytes).ValueOrDie();
  std::string out;
  for (;;) {
    auto next = reader->Next();
    if (!next.ok()) return next.status().message();
    if (*next == nullptr) return out;
    out += std::string((*next)->type_name) + ";";
  }
}

TEST(MessageReaderTest, LinesStraddlingReadsAreWhole) {
  const std::string text = std::string(kState) + "\n\n" + kState + "\n" + kState;
  EXPECT_EQ(ReadAll(text, 1 << 20, 5), "STATE;STATE;STATE;");
}

// Found by fuzz/message_reader_fuzzer.cc: a line of exactly the limit was refused when it
// filled the buffer, before its '\n' or the end of the input was read.
TEST(MessageReaderTest, LineOfExactlyTheLimitIsAccepted) {
  const int64_t limit = sizeof(kState) - 1;
  for (int64_t read_bytes : {int64_t{1}, int64_t{8}, limit, limit + 1}) {
    EXPECT_EQ(ReadAll(std::string(kState) + "\n" + kState, limit, read_bytes), "STATE;STATE;")
        << "read_bytes " << read_bytes;
  }
}

TEST(MessageReaderTest, LineOverTheLimitIsRefusedByNumber) {
  const int64_t limit = sizeof(kState) - 2;
  EXPECT_EQ(ReadAll(std::string("\n") + kState + "\n", limit, 4), "line 2: longer than 31 bytes");
}

}  // namespace
}  // namespace lakepipe::singer

namespace lakepipe::singer {
namespace {

// Python's json.dumps writes float('nan') and float('inf') as bare tokens; inside strings the
// same words stay as they are.
TEST(MessageReaderTest, BareNonFiniteNumbersBecomeStringsOutsideStringsOnly) {
  PipeInput input(R"({"type":"RECORD","stream":"s","record":{"a":NaN,"b":Infinity,"c":-Infinity,)"
                  R"("d":"NaN \"Infinity\"","e":[NaN]}})"
                  "\n");
  auto reader = MessageReader::Make(input.fd()).ValueOrDie();
  auto message = reader->Next().ValueOrDie();
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(message->body,
            R"({"a":"NaN","b":"Infinity","c":"-Infinity","d":"NaN \"Infinity\"","e":["NaN"]})");
  EXPECT_EQ(reader->Next().ValueOrDie(), nullptr);
}

}  // namespace
}  // namespace lakepipe::singer
