#pragma once

#include <string>
#include <string_view>

namespace lakepipe::common {

/// `word` as one word for /bin/sh: in single quotes, each ' written as '\'' (close,
/// escaped quote, reopen). Inside single quotes sh expands nothing, so spaces, $, `, \,
/// globs and ; are taken literally.
std::string ShellQuote(std::string_view word);

}  // namespace lakepipe::common
