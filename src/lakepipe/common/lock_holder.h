#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lakepipe {

/// Who holds a lock, as the holder records it for those who wait (in the lock file, or in
/// the PostgreSQL session's application_name), so a waiting run can say whom it waits for.
struct LockHolder {
  std::string host;
  int64_t pid = 0;
  std::string user;
  std::string since;  ///< "2026-12-02T00:50:00Z", when the lock was taken

  /// This process, now.
  static LockHolder Self();
  /// One line of JSON, the lock file's content (format: {"host", "pid", "user", "since"}).
  std::string ToJson() const;
  /// nullopt for anything else (an empty file, an older lakepipe's lock file).
  static std::optional<LockHolder> FromJson(const std::string& text);
  /// "pid 123 on host 'build7' (user ada) since 2026-12-02T00:50:00Z".
  std::string Describe() const;
};

}  // namespace lakepipe
