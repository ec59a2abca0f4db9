#pragma once

// What may be deleted from a stage's slot folder, and what must stay a while longer.
//
// A catalog connection opened before a publish keeps reading the generation it opened (its
// views list that generation's files), so the files a commit replaced stay readable for a
// grace period (`table_store.keep_replaced_for`) before a later run's begin stage or gc
// deletes them. The time a generation was replaced is known only at the moment its slot is
// reused, so the slot records it there: a small marker file `_replaced-<epoch>-<id>.json`
// in the slot folder lists the files kept and when they stopped being live. Hidden from
// Parquet readers by its leading '_' and its extension.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <arrow/result.h>

namespace lakepipe::tablestore {

using SystemTime = std::chrono::system_clock::time_point;

/// A marker: files of a replaced generation and when they were replaced.
struct ReplacedFiles {
  std::string marker;  ///< the marker's path, relative to the base
  SystemTime replaced_at;
  std::vector<std::string> files;  ///< relative to the base
};

/// The marker's JSON text, and back. Parsing fails on anything else.
std::string ReplacedFilesJson(const ReplacedFiles& replaced);
arrow::Result<ReplacedFiles> ParseReplacedFiles(const std::string& marker, const std::string& text);

/// A slot folder as found, and what the metadata says of it.
struct SlotFolder {
  std::vector<std::string> files;  ///< every file under the folder (markers included)
  std::vector<ReplacedFiles> markers;
  /// Files the committed slot's tables reference (when this slot is the committed one).
  std::set<std::string> live;
  /// The files of the generation this (uncommitted) slot last held, and when the other
  /// slot's commit replaced it; empty when the slot never committed or is the live one.
  std::vector<std::string> previous;
  std::optional<SystemTime> previous_replaced_at;
};

/// What to do with a slot folder: write `keep` (when set) first, then delete `remove`.
struct SlotCleanup {
  std::optional<ReplacedFiles> keep;  ///< a new marker for the previous generation
  std::vector<std::string> remove;    ///< sorted; expired markers after their files
};

/// Files not live and not protected by an unexpired marker or by the grace of the
/// previous generation go; so do markers whose files have all gone. `marker_id` names
/// a new marker uniquely ("<slot folder>/_replaced-<epoch>-<marker_id>.json").
SlotCleanup PlanSlotCleanup(const std::string& slot_dir, const SlotFolder& folder, SystemTime now,
                            std::chrono::seconds grace, const std::string& marker_id);

}  // namespace lakepipe::tablestore
