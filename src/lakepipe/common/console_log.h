#pragma once

// Where lakepipe's messages go: stderr, as "lakepipe: <level>: <message>", so stdout stays a
// command's output (JSON under --output json). The CLI and the Python module set it up alike.

namespace lakepipe {

/// Sends spdlog's default logger to stderr. `verbose` 0 shows warnings and errors, 1 adds
/// info (files written, retries, cache decisions), 2 and more debug (every store call).
void ConfigureConsoleLog(int verbose);

}  // namespace lakepipe
