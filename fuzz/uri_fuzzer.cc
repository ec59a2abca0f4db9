// Fuzzes storage::Uri::Parse and the operations on a parsed Uri, and checks that the
// canonical text of every accepted URI parses back to the same location.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lakepipe/storage/uri.h"

namespace {

using lakepipe::storage::Uri;

[[noreturn]] void Fail(std::string_view input, const std::string& what) {
  std::fprintf(stderr, "uri_fuzzer: '%.*s': %s\n", static_cast<int>(input.size()), input.data(),
               what.c_str());
  std::abort();
}

void CheckRoundTrip(std::string_view input, const Uri& uri) {
  const std::string text = uri.ToString();
  auto again = Uri::Parse(text);
  if (!again.ok())
    Fail(input, "canonical text '" + text + "' is refused: " + again.status().message());
  if (!(*again == uri)) Fail(input, "canonical text '" + text + "' names another location");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto uri = Uri::Parse(input);
  if (!uri.ok()) return 0;
  CheckRoundTrip(input, *uri);
  (void)uri->FileSystemPath();
  (void)uri->Name();
  const Uri parent = uri->Parent();
  if (!(parent.Parent().key().size() <= parent.key().size())) Fail(input, "Parent() grew the key");
  // Join with the input's own tail (callers join layout paths; no round trip promised).
  (void)uri->Join(input.substr(input.size() / 2)).ToString();
  return 0;
}
