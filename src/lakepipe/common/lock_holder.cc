#include "lakepipe/common/lock_holder.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lakepipe {
namespace {

std::string UtcSeconds(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string UserName() {
  if (const passwd* entry = ::getpwuid(::geteuid()); entry != nullptr && entry->pw_name) {
    return entry->pw_name;
  }
  const char* user = std::getenv("USER");
  return user ? user : std::to_string(::geteuid());
}

}  // namespace

LockHolder LockHolder::Self() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return {host, static_cast<int64_t>(::getpid()), UserName(),
          UtcSeconds(std::chrono::system_clock::now())};
}

std::string LockHolder::ToJson() const {
  return nlohmann::json{{"host", host}, {"pid", pid}, {"user", user}, {"since", since}}.dump();
}

std::optional<LockHolder> LockHolder::FromJson(const std::string& text) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("pid") || !json["pid"].is_number_integer()) {
    return std::nullopt;
  }
  try {
    return LockHolder{json.value("host", ""), json["pid"].get<int64_t>(), json.value("user", ""),
                      json.value("since", "")};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a field of the wrong type
  }
}

std::string LockHolder::Describe() const {
  return fmt::format("pid {} on host '{}' (user {}) since {}", pid, host, user, since);
}

}  // namespace lakepipe
