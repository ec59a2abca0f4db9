#pragma once

#include <string>

#include "lakepipe/duckdb/database.h"

namespace lakepipe::cli {

/// Prints a query result: a JSON array of objects for "json", else tab-separated text with
/// a header (easy to read and to pipe), NULL as "NULL".
void PrintQueryResult(const duckdb::TextResult& result, const std::string& output);

}  // namespace lakepipe::cli
