// The "parse + compress" limit of Singer ingest (bench case singer-limit, issue 6): how fast
// one core can only parse every line of a Singer file with simdjson On-Demand (visiting
// every value, as an ingest must) and then zstd-compress the same bytes at the level
// lakepipe writes Parquet with. Nothing is built, typed, encoded or written, so no real
// ingest can beat it; bench/run.py reports lakepipe's records/s as a share of this.
//
//   lakepipe_parse_compress_limit FILE [ZSTD_LEVEL]
// prints one JSON line: {"records":…,"bytes":…,"parse_seconds":…,"compress_seconds":…}
#include <simdjson.h>

#include <arrow/buffer.h>
#include <arrow/io/file.h>
#include <arrow/result.h>
#include <arrow/util/compression.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using Clock = std::chrono::steady_clock;

// Visits every scalar below `value` so On-Demand parses all of it (it is lazy otherwise);
// the sum of lengths keeps the work from being optimized away.
simdjson::error_code Visit(simdjson::ondemand::value value, uint64_t* sink) {
  simdjson::ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case simdjson::ondemand::json_type::object:
      for (auto field : value.get_object()) {
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return error;
        *sink += key.size();
        simdjson::ondemand::value child;
        if (auto error = field.value().get(child)) return error;
        if (auto error = Visit(child, sink)) return error;
      }
      return simdjson::SUCCESS;
    case simdjson::ondemand::json_type::array:
      for (auto item : value.get_array()) {
        simdjson::ondemand::value child;
        if (auto error = item.get(child)) return error;
        if (auto error = Visit(child, sink)) return error;
      }
      return simdjson::SUCCESS;
    case simdjson::ondemand::json_type::string: {
      std::string_view text;
      if (auto error = value.get_string().get(text)) return error;
      *sink += text.size();
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::number: {
      double number = 0;
      if (auto error = value.get_double().get(number)) return error;
      *sink += static_cast<uint64_t>(number != 0);
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool flag = false;
      if (auto error = value.get_bool().get(flag)) return error;
      *sink += flag;
      return simdjson::SUCCESS;
    }
    default:
      return value.is_null().error();
  }
}

arrow::Status Run(const std::string& path, int level) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path));
  ARROW_ASSIGN_OR_RAISE(const int64_t size, file->GetSize());
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> bytes, file->Read(size));
  const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());

  // Parse: line by line, as lakepipe reads a tap's stdout, with one reused parser and a
  // padded copy of each line (simdjson needs SIMDJSON_PADDING readable bytes after it).
  simdjson::ondemand::parser parser;
  simdjson::padded_string line_buffer(size_t{1} << 20);
  uint64_t records = 0;
  uint64_t sink = 0;
  const auto parse_start = Clock::now();
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    if (line.size() > line_buffer.size()) line_buffer = simdjson::padded_string(line.size() * 2);
    std::memcpy(line_buffer.data(), line.data(), line.size());
    simdjson::ondemand::document doc;
    if (auto error = parser.iterate(line_buffer.data(), line.size(), line_buffer.size()).get(doc)) {
      return arrow::Status::Invalid("line ", records + 1, ": ", simdjson::error_message(error));
    }
    simdjson::ondemand::value root;
    if (auto error = doc.get_value().get(root)) {
      return arrow::Status::Invalid("line ", records + 1, ": ", simdjson::error_message(error));
    }
    if (auto error = Visit(root, &sink)) {
      return arrow::Status::Invalid("line ", records + 1, ": ", simdjson::error_message(error));
    }
    ++records;
  }
  const double parse_seconds =
      std::chrono::duration<double>(Clock::now() - parse_start).count();

  // Compress: the same bytes in 1 MiB pieces (the order of a Parquet page's size).
  ARROW_ASSIGN_OR_RAISE(auto codec, arrow::util::Codec::Create(arrow::Compression::ZSTD, level));
  constexpr int64_t kPiece = int64_t{1} << 20;
  ARROW_ASSIGN_OR_RAISE(auto out, arrow::AllocateBuffer(codec->MaxCompressedLen(kPiece, nullptr)));
  int64_t compressed = 0;
  const auto compress_start = Clock::now();
  for (int64_t offset = 0; offset < size; offset += kPiece) {
    const int64_t n = std::min(kPiece, size - offset);
    ARROW_ASSIGN_OR_RAISE(const int64_t written,
                          codec->Compress(n, bytes->data() + offset, out->size(),
                                          out->mutable_data()));
    compressed += written;
  }
  const double compress_seconds =
      std::chrono::duration<double>(Clock::now() - compress_start).count();

  std::printf(
      "{\"records\": %llu, \"bytes\": %lld, \"compressed_bytes\": %lld, \"parse_seconds\": %.4f, "
      "\"compress_seconds\": %.4f, \"sink\": %llu}\n",
      static_cast<unsigned long long>(records), static_cast<long long>(size),
      static_cast<long long>(compressed), parse_seconds, compress_seconds,
      static_cast<unsigned long long>(sink));
  return arrow::Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s FILE [ZSTD_LEVEL]\n", argv[0]);
    return 2;
  }
  const int level = argc == 3 ? std::atoi(argv[2]) : 1;
  const auto status = Run(argv[1], level);
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[1], status.ToString().c_str());
    return 1;
  }
  return 0;
}
