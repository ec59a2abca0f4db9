#pragma once

// Where the table store keeps each thing and what it names it: the only place these paths
// and names are built (as lake/bucket_layout.h is for ingest buckets).
//
// Under the base (any storage URI), relative to it:
//
//   <instance>/<flow>/                                  the flow's folder (FlowDir)
//   <flow dir>/<stage>__<slot>/                         a slot of a stage (SlotDir)
//   <slot dir>/<table>/[<col>=<value>/…]part-<id>-NNNN.parquet   data files (DataFile)
//   <slot dir>/_replaced-<epoch>-<id>.json              a replaced generation (slot_retention.h)
//
// Beside the catalog file <dir>/<name>.duckdb (local):
//
//   <dir>/<name>.meta.sqlite                            the embedded metadata store
//   <dir>/.<name>.locks/<metadata instance>/<stage>.lock   stage locks (and __setup__.lock)
//   <dir>/.<name>.duckdb.lock                           the catalog's publish lock
//   <dir>/<name>.duckdb.tmp-<pid>-<id>                  a catalog being built
//
// Every <instance>, <flow>, <stage>, <table> and <metadata instance> in a path is the
// name's EncodePathSegment() (lake/path_segment.h); the arguments here are plain names.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lakepipe::tablestore::layout {

/// The two slots of a stage.
inline constexpr std::string_view kSlots[] = {"odd", "even"};
/// Between a stage and its slot in a folder or catalog schema name ("raw__odd"); stage
/// names may not hold it.
inline constexpr std::string_view kSlotSeparator = "__";

/// The metadata store's key of an instance: "<flow>/<instance>", the instance alone
/// when no flow name is set.
std::string MetadataInstance(std::string_view flow, std::string_view instance);

/// "<instance>/<flow>" ("<instance>" without a flow name).
std::string FlowDir(std::string_view instance, std::string_view flow);
/// "<flow dir>/<stage>__<slot>".
std::string SlotDir(std::string_view flow_dir, std::string_view stage, std::string_view slot);
/// "<slot dir>/<table>".
std::string TableDir(std::string_view slot_dir, std::string_view table);

/// The (stage, slot) of a slot folder's name "<encoded stage>__<slot>", or nullopt when
/// `folder` is not one.
std::optional<std::pair<std::string, std::string>> ParseSlotFolder(std::string_view folder);

/// A transaction's data file stem, "part-<8 hex digits>", random: no earlier generation
/// kept in the slot has files of that name.
std::string NewFileStem();
/// "<dir>/<stem>-NNNN.parquet": data file `index` of a writer in folder `dir`.
std::string DataFile(std::string_view dir, std::string_view stem, int64_t index);

/// The marker of a replaced generation: "<slot dir>/_replaced-<epoch>-<id>.json".
std::string ReplacedMarker(std::string_view slot_dir, int64_t epoch, std::string_view id);
/// True when `file` is such a marker directly inside `slot_dir`.
bool IsReplacedMarker(std::string_view slot_dir, std::string_view file);

/// The catalog schema of a slot's views, "<stage>__<slot>" (plain names: SQL quotes them).
std::string SlotSchema(std::string_view stage, std::string_view slot);
/// True for a schema named by SlotSchema (a stage's alias schema has no "__").
bool IsSlotSchema(std::string_view schema);

/// The embedded metadata store beside the catalog at `catalog` (absolute or relative).
std::string EmbeddedMetadataPath(const std::string& catalog);
/// The folder of the file locks of the catalog at `catalog`.
std::string LockDir(const std::string& catalog);
/// The stage locks' files under `lock_dir`, one folder per metadata instance.
std::string StageLockFile(std::string_view lock_dir, std::string_view metadata_instance,
                          std::string_view stage);
std::string SetupLockFile(std::string_view lock_dir, std::string_view metadata_instance);
/// The publish lock of the catalog at `catalog`.
std::string CatalogLockPath(const std::string& catalog);
/// Temp copies of the catalog being built start with this, after the catalog's file name.
inline constexpr char kCatalogTempInfix[] = ".tmp-";
/// A new temp copy's path for the catalog at `catalog`: "<catalog>.tmp-<pid>-<id>"
/// (callers may append to it: any file starting so is a leftover of a killed run).
std::string CatalogTempPath(const std::string& catalog);

}  // namespace lakepipe::tablestore::layout
