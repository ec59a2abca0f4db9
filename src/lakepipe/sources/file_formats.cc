#include "lakepipe/sources/file_formats.h"

namespace lakepipe::sources {
namespace {

// Compressed files (.gz, .zst) are decompressed by FileSource whatever their format.
constexpr std::string_view kCsv[] = {".csv", ".csv.gz"};
constexpr std::string_view kJsonl[] = {".jsonl",    ".ndjson",    ".json",   ".jsonl.gz",
                                       ".jsonl.zst", ".ndjson.gz", ".json.gz"};
constexpr std::string_view kParquet[] = {".parquet"};

constexpr FileFormat kFormats[] = {{"csv", kCsv}, {"jsonl", kJsonl}, {"parquet", kParquet}};

}  // namespace

std::span<const FileFormat> FileFormats() { return kFormats; }

bool IsFileFormat(std::string_view name) {
  for (const auto& format : kFormats) {
    if (format.name == name) return true;
  }
  return false;
}

std::string FileFormatNames() {
  std::string out;
  for (size_t i = 0; i < std::size(kFormats); ++i) {
    if (i > 0) out += i + 1 == std::size(kFormats) ? " or " : ", ";
    out += kFormats[i].name;
  }
  return out;
}

std::string FormatOfPath(std::string_view path) {
  for (const auto& format : kFormats) {
    for (std::string_view suffix : format.suffixes) {
      if (path.ends_with(suffix)) return std::string(format.name);
    }
  }
  return "";
}

}  // namespace lakepipe::sources
