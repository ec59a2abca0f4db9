#include "lakepipe/flow/flow_names.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include <fmt/format.h>

#include "lakepipe/lake/path_segment.h"
#include "lakepipe/tablestore/layout.h"

namespace lakepipe::flow {
namespace {

// Schemas DuckDB keeps (information_schema, pg_catalog), databases every session has
// (temp, system, and memory in a session that attached the catalog) and the catalog's own
// schemas (main, lakepipe): a stage of one of these names breaks the catalog build or
// makes "<stage>.<table>" ambiguous.
constexpr std::array<std::string_view, 7> kReservedSchemas = {
    "main", "lakepipe", "information_schema", "pg_catalog", "temp", "system", "memory"};

bool IsReserved(std::string_view name) {
  const std::string key = NameKey(name);
  for (const auto reserved : kReservedSchemas) {
    if (key == reserved) return true;
  }
  return false;
}

// The longest slot suffix a stage name gets in a path segment ("__even").
constexpr size_t kSlotSuffixBytes = [] {
  size_t longest = 0;
  for (auto slot : tablestore::layout::kSlots) longest = std::max(longest, slot.size());
  return tablestore::layout::kSlotSeparator.size() + longest;
}();

}  // namespace

std::string NameKey(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

std::string CatalogDatabaseName(std::string_view path) {
  std::string name = std::filesystem::path(path).filename().string();
  while (name.starts_with('.')) name.erase(0, 1);
  if (const auto dot = name.find('.'); dot != std::string::npos) name.resize(dot);
  if (name == "main" || name == "temp" || name == "system") name += "_db";
  return name;
}

arrow::Status CheckCatalogDatabaseName(std::string_view database) {
  if (IsReserved(database)) {
    return arrow::Status::Invalid(fmt::format(
        "the catalog file's database name '{}' clashes with a schema DuckDB or the catalog "
        "keeps (main, lakepipe, information_schema, pg_catalog, temp, system, memory): name "
        "the catalog file otherwise",
        database));
  }
  return arrow::Status::OK();
}

arrow::Status CheckTaskName(std::string_view name) {
  if (name.empty()) return arrow::Status::Invalid("the name is empty");
  if (name.find('.') != std::string_view::npos) {
    return arrow::Status::Invalid(
        fmt::format("'{}' holds a '.', which separates stage and table in 'stage.table'", name));
  }
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return arrow::Status::Invalid(
          fmt::format("'{}' holds a control character", lake::EncodePathSegment(name)));
    }
  }
  const size_t encoded = lake::EncodePathSegment(name).size() + kSlotSuffixBytes;
  if (encoded > lake::kMaxPathSegmentBytes) {
    return arrow::Status::Invalid(fmt::format(
        "'{}' is too long: it must fit one path segment of at most {} bytes once encoded", name,
        lake::kMaxPathSegmentBytes - kSlotSuffixBytes));
  }
  return arrow::Status::OK();
}

arrow::Status CheckStageName(std::string_view name, std::string_view catalog_database) {
  ARROW_RETURN_NOT_OK(CheckTaskName(name));
  if (name.find(tablestore::layout::kSlotSeparator) != std::string_view::npos) {
    return arrow::Status::Invalid(
        fmt::format("'{}' holds '__', which the catalog keeps for the slot schemas "
                    "'<stage>__odd' and '<stage>__even'",
                    name));
  }
  if (IsReserved(name)) {
    return arrow::Status::Invalid(
        fmt::format("'{}' is a schema name DuckDB or the catalog keeps (main, lakepipe, "
                    "information_schema, pg_catalog, temp, system, memory; case does not matter)",
                    name));
  }
  if (NameKey(name) == NameKey(catalog_database)) {
    return arrow::Status::Invalid(
        fmt::format("'{}' is the catalog file's database name: '{}.<table>' would be "
                    "ambiguous in DuckDB",
                    name, name));
  }
  return arrow::Status::OK();
}

}  // namespace lakepipe::flow
