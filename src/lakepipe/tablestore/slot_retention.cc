#include "lakepipe/tablestore/slot_retention.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lakepipe/common/time_format.h"
#include "lakepipe/tablestore/layout.h"

namespace lakepipe::tablestore {

std::string ReplacedFilesJson(const ReplacedFiles& replaced) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           replaced.replaced_at.time_since_epoch())
                           .count();
  return nlohmann::json{{"replaced_at", IsoUtc(replaced.replaced_at)},
                        {"replaced_at_epoch", seconds},
                        {"files", replaced.files}}
      .dump(2);
}

arrow::Result<ReplacedFiles> ParseReplacedFiles(const std::string& marker,
                                                const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json["replaced_at_epoch"].is_number_integer() ||
      !json["files"].is_array()) {
    return arrow::Status::Invalid(fmt::format("'{}' is not a replaced-files marker", marker));
  }
  ReplacedFiles out;
  out.marker = marker;
  out.replaced_at = SystemTime(std::chrono::seconds(json["replaced_at_epoch"].get<int64_t>()));
  for (const auto& file : json["files"]) {
    if (!file.is_string()) {
      return arrow::Status::Invalid(fmt::format("'{}' is not a replaced-files marker", marker));
    }
    out.files.push_back(file.get<std::string>());
  }
  return out;
}

SlotCleanup PlanSlotCleanup(const std::string& slot_dir, const SlotFolder& folder, SystemTime now,
                            std::chrono::seconds grace, const std::string& marker_id) {
  SlotCleanup plan;
  std::set<std::string> keep = folder.live;
  std::set<std::string> expired_markers;
  for (const auto& marker : folder.markers) {
    if (now - marker.replaced_at < grace) {
      keep.insert(marker.marker);
      keep.insert(marker.files.begin(), marker.files.end());
    } else {
      expired_markers.insert(marker.marker);
    }
  }
  if (!folder.previous.empty() && folder.previous_replaced_at &&
      now - *folder.previous_replaced_at < grace) {
    ReplacedFiles marker;
    const auto epoch = std::chrono::duration_cast<std::chrono::seconds>(
                           folder.previous_replaced_at->time_since_epoch())
                           .count();
    marker.marker = layout::ReplacedMarker(slot_dir, epoch, marker_id);
    marker.replaced_at = *folder.previous_replaced_at;
    const std::set<std::string> present(folder.files.begin(), folder.files.end());
    for (const auto& file : folder.previous) {
      if (present.contains(file) && !keep.contains(file)) marker.files.push_back(file);
    }
    if (!marker.files.empty()) {
      keep.insert(marker.files.begin(), marker.files.end());
      plan.keep = std::move(marker);
    }
  }
  std::vector<std::string> markers_last;
  for (const auto& file : folder.files) {
    if (keep.contains(file)) continue;
    if (expired_markers.contains(file)) {
      markers_last.push_back(file);
    } else {
      plan.remove.push_back(file);
    }
  }
  // An unreadable marker (not in folder.markers) is removed like any other stray file.
  std::sort(plan.remove.begin(), plan.remove.end());
  std::sort(markers_last.begin(), markers_last.end());
  plan.remove.insert(plan.remove.end(), markers_last.begin(), markers_last.end());
  return plan;
}

}  // namespace lakepipe::tablestore
