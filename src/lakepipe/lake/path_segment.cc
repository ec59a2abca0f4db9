#include "lakepipe/lake/path_segment.h"

#include <fmt/format.h>

namespace lakepipe::lake {
namespace {

bool KeptAsIs(char c, bool first) {
  const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || c == '_' || c == '-' || (c == '.' && !first);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Names in messages: printable ASCII, bounded, so a hostile name cannot forge a log line.
std::string Printable(std::string_view name) {
  std::string shown;
  for (const char c : name.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) {
      shown += c;
    } else {
      shown += fmt::format("~{:02X}", static_cast<unsigned char>(c));
    }
  }
  if (name.size() > 80) shown += "...";
  return shown;
}

}  // namespace

std::string EncodePathSegment(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (KeptAsIs(c, i == 0)) {
      out += c;
    } else {
      out += fmt::format("~{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string DecodePathSegment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '~' && i + 2 < segment.size()) {
      const int high = HexValue(segment[i + 1]);
      const int low = HexValue(segment[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += segment[i];
  }
  return out;
}

arrow::Status CheckPathName(std::string_view what, std::string_view name) {
  if (name.empty()) return arrow::Status::Invalid(what, " name is empty");
  const size_t encoded = EncodePathSegment(name).size();
  if (encoded > kMaxPathSegmentBytes) {
    return arrow::Status::Invalid(
        fmt::format("{} name '{}' is too long for a path ({} bytes once encoded, at most {})", what,
                    Printable(name), encoded, kMaxPathSegmentBytes));
  }
  return arrow::Status::OK();
}

arrow::Status CheckRelativePath(std::string_view what, std::string_view path) {
  // A leading or trailing '/' has always been accepted (TableLocation trims it).
  std::string_view rest = path;
  while (rest.starts_with('/')) rest.remove_prefix(1);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment.starts_with('.') || segment.find('\\') != segment.npos ||
        EncodePathSegment(segment) != segment) {
      return arrow::Status::Invalid(fmt::format(
          "{} '{}': every segment must be a plain name (letters, digits, '_', '-', '.' not "
          "first), got '{}'",
          what, Printable(path), Printable(segment)));
    }
    if (slash == rest.npos) break;
    rest.remove_prefix(slash + 1);
  }
  return arrow::Status::OK();
}

bool IsContainedRelativePath(std::string_view path) {
  if (path.empty() || path.starts_with('/')) return false;
  for (;;) {
    const size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (segment.empty() || segment == "." || segment == ".." || segment.size() > 255) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace lakepipe::lake
