#include "lakepipe/pipeline/boundary_filter.h"

#include <arrow/array.h>
#include <arrow/builder.h>
#include <arrow/compute/api.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace lakepipe::pipeline {
namespace {

// Boundaries hold one key per row at the newest value; more than this many usually means
// the replication key is not what changes (every row has the same value).
constexpr size_t kManyBoundaryKeys = 100'000;

// The columns that identify a row: the key properties, or every column.
arrow::Result<std::vector<std::shared_ptr<arrow::Array>>> IdentityColumns(
    const arrow::RecordBatch& batch, const std::vector<std::string>& key_properties,
    const std::string& stream) {
  if (key_properties.empty()) return batch.columns();
  std::vector<std::shared_ptr<arrow::Array>> columns;
  for (const auto& name : key_properties) {
    auto column = batch.GetColumnByName(name);
    if (!column) {
      return arrow::Status::Invalid(
          fmt::format("stream '{}': key property '{}' is not a column", stream, name));
    }
    columns.push_back(std::move(column));
  }
  return columns;
}

arrow::Result<std::string> KeyOf(const std::vector<std::shared_ptr<arrow::Array>>& columns,
                                 int64_t row) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& column : columns) {
    ARROW_ASSIGN_OR_RAISE(auto scalar, column->GetScalar(row));
    if (scalar->is_valid) {
      parts.push_back(scalar->ToString());
    } else {
      parts.push_back(nullptr);
    }
  }
  return parts.dump();
}

arrow::Result<bool> Compare(const char* function, const std::shared_ptr<arrow::Scalar>& a,
                            const std::shared_ptr<arrow::Scalar>& b) {
  ARROW_ASSIGN_OR_RAISE(auto result, arrow::compute::CallFunction(function, {a, b}));
  const auto& scalar = result.scalar_as<arrow::BooleanScalar>();
  return scalar.is_valid && scalar.value;
}

// Rows whose `column` value equals `value` (nulls never do).
arrow::Result<std::vector<int64_t>> RowsEqualTo(const std::shared_ptr<arrow::Array>& column,
                                                const std::shared_ptr<arrow::Scalar>& value) {
  ARROW_ASSIGN_OR_RAISE(auto result, arrow::compute::CallFunction("equal", {column, value}));
  const auto& mask = static_cast<const arrow::BooleanArray&>(*result.make_array());
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < mask.length(); ++i) {
    if (mask.IsValid(i) && mask.Value(i)) rows.push_back(i);
  }
  return rows;
}

}  // namespace

arrow::Result<BoundaryFilter> BoundaryFilter::FromState(const nlohmann::json& saved) {
  BoundaryFilter filter;
  if (saved.is_null()) return filter;
  if (!saved.is_object())
    return arrow::Status::Invalid("state: lakepipe.boundaries is not an object");
  for (const auto& [stream, value] : saved.items()) {
    const auto where = fmt::format("state: lakepipe.boundaries['{}']", stream);
    if (!value.is_object() || !value.value("replication_key", nlohmann::json()).is_string() ||
        !value.value("value", nlohmann::json()).is_string() ||
        !value.value("keys", nlohmann::json()).is_array()) {
      return arrow::Status::Invalid(
          where, ": needs string \"replication_key\" and \"value\" and a \"keys\" list");
    }
    Boundary& boundary = filter.boundaries_[stream];
    boundary.replication_key = value["replication_key"].get<std::string>();
    boundary.saved_value = value["value"].get<std::string>();
    for (const auto& key : value["keys"]) {
      if (!key.is_string()) return arrow::Status::Invalid(where, ": keys must be strings");
      boundary.saved_keys.insert(key.get<std::string>());
    }
  }
  return filter;
}

void BoundaryFilter::SetKeys(const std::string& stream, const std::string& replication_key,
                             const std::vector<std::string>& key_properties) {
  Boundary& boundary = boundaries_[stream];
  if (boundary.replication_key != replication_key) {
    // Saved under another key (the pipeline file changed): it says nothing about this one.
    boundary = Boundary{};
    boundary.replication_key = replication_key;
  }
  boundary.key_properties = key_properties;
}

arrow::Result<std::shared_ptr<arrow::RecordBatch>> BoundaryFilter::Apply(
    const std::string& stream, const std::shared_ptr<arrow::RecordBatch>& batch) {
  auto it = boundaries_.find(stream);
  if (it == boundaries_.end() || it->second.replication_key.empty()) return batch;
  Boundary& boundary = it->second;
  auto column = batch->GetColumnByName(boundary.replication_key);
  if (!column) return batch;  // a stream without its key column has no boundary to keep
  if (!boundary.newest && !boundary.saved_value.empty()) {
    // The saved boundary, in the column's type (it was saved as text).
    auto typed = arrow::compute::Cast(
        arrow::Datum(std::make_shared<arrow::StringScalar>(boundary.saved_value)), column->type());
    if (typed.ok()) {
      boundary.newest = typed->scalar();
      boundary.newest_keys = boundary.saved_keys;
    } else {
      spdlog::warn(
          "stream '{}': the saved boundary '{}' does not fit replication key '{}' "
          "({}) any more; rows at the bookmark may be appended again",
          stream, boundary.saved_value, boundary.replication_key, column->type()->ToString());
      boundary.saved_value.clear();
      boundary.saved_keys.clear();
    }
  }
  std::shared_ptr<arrow::RecordBatch> kept = batch;
  if (!boundary.saved_value.empty() && !boundary.saved_keys.empty()) {
    ARROW_ASSIGN_OR_RAISE(
        auto saved, arrow::compute::Cast(
                        arrow::Datum(std::make_shared<arrow::StringScalar>(boundary.saved_value)),
                        column->type()));
    ARROW_ASSIGN_OR_RAISE(auto at_boundary, RowsEqualTo(column, saved.scalar()));
    if (!at_boundary.empty()) {
      ARROW_ASSIGN_OR_RAISE(auto identity,
                            IdentityColumns(*batch, boundary.key_properties, stream));
      std::vector<bool> drop(static_cast<size_t>(batch->num_rows()), false);
      int64_t dropped = 0;
      for (int64_t row : at_boundary) {
        ARROW_ASSIGN_OR_RAISE(auto key, KeyOf(identity, row));
        if (boundary.saved_keys.contains(key)) {
          drop[static_cast<size_t>(row)] = true;
          ++dropped;
        }
      }
      if (dropped > 0) {
        arrow::BooleanBuilder keep;
        ARROW_RETURN_NOT_OK(keep.Reserve(batch->num_rows()));
        for (bool d : drop) keep.UnsafeAppend(!d);
        ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
        ARROW_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(batch, mask));
        kept = filtered.record_batch();
        boundary.dropped += dropped;
      }
    }
  }
  ARROW_RETURN_NOT_OK(Track(boundary, *kept, kept->GetColumnByName(boundary.replication_key)));
  return kept;
}

arrow::Status BoundaryFilter::Track(Boundary& boundary, const arrow::RecordBatch& kept,
                                    const std::shared_ptr<arrow::Array>& key_column) {
  if (kept.num_rows() == 0 || key_column->null_count() == key_column->length()) {
    return arrow::Status::OK();
  }
  ARROW_ASSIGN_OR_RAISE(auto min_max, arrow::compute::MinMax(key_column));
  const auto& pair = min_max.scalar_as<arrow::StructScalar>();
  std::shared_ptr<arrow::Scalar> max = pair.value[1];
  if (!max->is_valid) return arrow::Status::OK();
  bool newer = !boundary.newest;
  if (!newer) {
    ARROW_ASSIGN_OR_RAISE(newer, Compare("greater", max, boundary.newest));
  }
  if (newer) {
    boundary.newest = max;
    boundary.newest_keys.clear();
  } else {
    ARROW_ASSIGN_OR_RAISE(bool same, Compare("equal", max, boundary.newest));
    if (!same) return arrow::Status::OK();  // older rows: the boundary stays
  }
  ARROW_ASSIGN_OR_RAISE(auto rows, RowsEqualTo(key_column, boundary.newest));
  ARROW_ASSIGN_OR_RAISE(auto identity, IdentityColumns(kept, boundary.key_properties, ""));
  for (int64_t row : rows) {
    ARROW_ASSIGN_OR_RAISE(auto key, KeyOf(identity, row));
    boundary.newest_keys.insert(std::move(key));
  }
  return arrow::Status::OK();
}

arrow::Result<nlohmann::json> BoundaryFilter::ToState() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [stream, boundary] : boundaries_) {
    if (boundary.replication_key.empty()) continue;
    std::string value = boundary.saved_value;
    const std::set<std::string>* keys = &boundary.saved_keys;
    if (boundary.newest) {
      ARROW_ASSIGN_OR_RAISE(auto text,
                            arrow::compute::Cast(arrow::Datum(boundary.newest), arrow::utf8()));
      value = std::string(text.scalar_as<arrow::StringScalar>().view());
      keys = &boundary.newest_keys;
    }
    if (value.empty()) continue;
    if (keys->size() > kManyBoundaryKeys) {
      spdlog::warn(
          "stream '{}': {} rows share the newest value of replication key '{}'; all "
          "their keys are kept in the state (is it the column that changes?)",
          stream, keys->size(), boundary.replication_key);
    }
    out[stream] = {{"replication_key", boundary.replication_key},
                   {"value", value},
                   {"keys", nlohmann::json(*keys)}};
  }
  return out;
}

nlohmann::json BoundaryFilter::DroppedRows() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [stream, boundary] : boundaries_) {
    if (boundary.dropped > 0) out[stream] = boundary.dropped;
  }
  return out;
}

}  // namespace lakepipe::pipeline
