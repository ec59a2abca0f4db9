#pragma once

#include <span>
#include <string>
#include <string_view>

namespace lakepipe::sources {

/// A file format the built-in file reader reads (FileSource), and the file name endings
/// that say a file is in it.
struct FileFormat {
  std::string_view name;  ///< as pipelines (`reader:`) and flows (`read.format:`) write it
  std::span<const std::string_view> suffixes;
};

/// csv, jsonl and parquet, in that order: the one list of them.
std::span<const FileFormat> FileFormats();

/// True for "csv", "jsonl" and "parquet".
bool IsFileFormat(std::string_view name);

/// "csv, jsonl or parquet", for messages.
std::string FileFormatNames();

/// The format whose suffix `path` ends with ("data/x.csv.gz" → "csv"), or "" when none.
std::string FormatOfPath(std::string_view path);

}  // namespace lakepipe::sources
