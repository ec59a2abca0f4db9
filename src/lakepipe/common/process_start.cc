#include "lakepipe/common/process_start.h"

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <fmt/format.h>

namespace lakepipe {

long long ProcessStartTicks(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  if (!in) return -1;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields are
  // counted from the last ')'. Field 3 follows it, so field 22 is the 20th after it.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return -1;
  }
  long long ticks = -1;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), ticks);
  return ec == std::errc() && end == field.data() + field.size() ? ticks : -1;
}

}  // namespace lakepipe
