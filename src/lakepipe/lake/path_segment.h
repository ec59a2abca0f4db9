#pragma once

#include <string>
#include <string_view>

#include <arrow/status.h>

namespace lakepipe::lake {

/// Names that come from taps, databases and files (streams, tables, sources, pipelines) are
/// untrusted: each becomes exactly one path segment through this encoding, documented in
/// docs/FORMATS.md ("Names in paths"):
///   - ASCII letters, digits, '_' and '-' stay as they are, and so does '.' after the first
///     byte, so every name DataSpoc Pipe would write keeps its spelling;
///   - every other byte (a leading '.', '/', '\', '=', '~', spaces, control bytes, each byte
///     of a non-ASCII character) becomes '~' and two upper-case hex digits ("a/b" → "a~2Fb").
/// The result is never empty, ".", ".." or hidden, holds no separator and no '=' (which a
/// reader would take for a hive partition), and decodes back to the name.
std::string EncodePathSegment(std::string_view name);

/// The name EncodePathSegment made `segment` from; a '~' not followed by two hex digits
/// stays as it is.
std::string DecodePathSegment(std::string_view segment);

/// Longest encoded segment: a data file adds "_NNNN.parquet" to it and most filesystems take
/// 255 bytes per segment.
constexpr size_t kMaxPathSegmentBytes = 200;

/// OK when `name` maps to a usable segment; otherwise an Invalid status naming `what`
/// ("stream", "source", ...) and the name: empty, or too long once encoded.
arrow::Status CheckPathName(std::string_view what, std::string_view name);

/// OK when `path` (a destination's `path:`, "raw" or "raw/crm") is relative and every
/// segment of it is a plain name: no "..", ".", empty or hidden segment.
arrow::Status CheckRelativePath(std::string_view what, std::string_view path);

/// True when `path` ("raw/src/t/dt=2026-01-01/t_0001.parquet") stays below the folder it
/// is relative to: not absolute, no empty, "." or ".." segment, no segment longer than a
/// filesystem takes (255 bytes).
bool IsContainedRelativePath(std::string_view path);

}  // namespace lakepipe::lake
