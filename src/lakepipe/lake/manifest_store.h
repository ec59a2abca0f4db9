#pragma once

#include <optional>
#include <string>

#include <arrow/result.h>
#include <nlohmann/json.hpp>

#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/lake/table_entry.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::lake {

/// Reads and commits the bucket's catalog.
///
/// Concurrency without conditional writes: Arrow's filesystems expose no If-Match /
/// generation preconditions, so instead of read-modify-write on one shared file, each
/// table has its own entry file (.dataspoc/tables/<source>/<table>.json, written only by
/// the pipeline that owns the table, whose runs a lock serializes), and manifest.json is
/// derived from all entry files by Publish(). Publish() writes, then re-reads both the
/// entries and the manifest until the manifest reflects every entry, so concurrent
/// publishers converge: whoever writes last verifies last, and no pipeline's entry is
/// lost. Entries that other tools (DataSpoc Pipe) put in manifest.json without an entry
/// file are kept as they are, and so is an entry whose `stats.extractions` another tool
/// raised above its entry file's (DataSpoc ran on a table of ours): the table's next run
/// reconciles it (lake/table_reconciler.h).
///
/// Thread-compatible: use one instance per thread or synchronize.
class ManifestStore {
 public:
  ManifestStore(storage::Storage* storage, BucketLayout layout)
      : storage_(storage), layout_(std::move(layout)) {}

  /// The table's entry, or nullopt when the table has never been committed.
  arrow::Result<std::optional<TableEntry>> LoadTable(const std::string& source,
                                                     const std::string& table);

  /// The table's entry in manifest.json as it is now, whoever wrote it (DataSpoc Pipe
  /// writes only there), or nullopt when manifest.json has none.
  arrow::Result<std::optional<TableEntry>> LoadManifestEntry(const std::string& source,
                                                             const std::string& table);

  /// Writes one table's entry file (atomically). Not visible in manifest.json until
  /// Publish().
  arrow::Status SaveTable(const TableEntry& entry);

  /// Rebuilds manifest.json from every table entry; see the class comment.
  arrow::Status Publish();

  /// manifest.json as stored, or an empty manifest when there is none.
  arrow::Result<nlohmann::json> LoadManifest();

 private:
  arrow::Result<nlohmann::json> LoadAllEntries();

  storage::Storage* storage_;
  BucketLayout layout_;
};

/// Parses a JSON document read from `uri`, naming it in errors.
arrow::Result<nlohmann::json> ParseJsonDocument(const std::string& text, const storage::Uri& uri);

/// Reads and parses the JSON document at `uri`. A document another process replaces
/// while we read it can come back cut short (object stores answer a size, then a ranged
/// read of the new object), so a parse failure is retried a few times before it counts.
arrow::Result<nlohmann::json> ReadJsonDocument(storage::Storage* storage, const storage::Uri& uri);

/// ReadJsonDocument, or nullopt when nothing is at `uri` (Storage::ReadIfExists).
arrow::Result<std::optional<nlohmann::json>> ReadJsonDocumentIfExists(storage::Storage* storage,
                                                                      const storage::Uri& uri);

}  // namespace lakepipe::lake
