#include "lakepipe/cli/query_output.h"

#include <iostream>

#include <nlohmann/json.hpp>

namespace lakepipe::cli {

void PrintQueryResult(const duckdb::TextResult& result, const std::string& output) {
  if (output == "json") {
    auto rows = nlohmann::json::array();
    for (const auto& row : result.rows) {
      nlohmann::json object = nlohmann::json::object();
      for (size_t c = 0; c < row.size(); ++c) {
        object[result.columns[c]] = row[c] ? nlohmann::json(*row[c]) : nlohmann::json();
      }
      rows.push_back(std::move(object));
    }
    std::cout << rows.dump() << "\n";
    return;
  }
  std::string line;
  for (size_t c = 0; c < result.columns.size(); ++c) line += (c ? "\t" : "") + result.columns[c];
  std::cout << line << "\n";
  for (const auto& row : result.rows) {
    line.clear();
    for (size_t c = 0; c < row.size(); ++c) line += (c ? "\t" : "") + row[c].value_or("NULL");
    std::cout << line << "\n";
  }
}

}  // namespace lakepipe::cli
