#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <arrow/result.h>

#include "lakepipe/lake/bucket_layout.h"
#include "lakepipe/lake/manifest_store.h"
#include "lakepipe/lake/table_entry.h"
#include "lakepipe/storage/storage.h"

namespace lakepipe::lake {

/// A data file found in a table's folder (`<location>/*.parquet`, `<location>/dt=*/*.parquet`).
struct FolderFile {
  std::string path;  ///< relative to the bucket
  int64_t bytes = 0;
};

/// What a data file's Parquet footer says.
struct FileFooter {
  int64_t rows = 0;
  std::vector<parquet::Column> columns;
};

/// Reads the footer of one folder file; errors name the file.
using FooterReader = std::function<arrow::Result<FileFooter>(const FolderFile&)>;

/// Makes `entry->files` what the table's folder holds, for tables that another writer
/// (DataSpoc Pipe) also writes into: a folder file the entry lacks is added with its
/// footer's rows and columns; a listed file of the table's layout that is gone is dropped;
/// a listed file whose size changed (DataSpoc numbers each run's files from 0000 again and
/// overwrites) gets its footer read again. Listed files outside `location`'s layout are
/// kept as they are. Then `total_rows` is the sum of the files' rows and `columns` their
/// union (UnifyColumns). Reads only the footers of added or changed files.
///
/// On error `entry` may be half reconciled: the caller drops it.
arrow::Status ReconcileFiles(TableEntry* entry, const std::string& location,
                             const std::vector<FolderFile>& folder,
                             const FooterReader& read_footer);

/// Counts runs that another writer made on the table since lakepipe's entry was written:
/// DataSpoc Pipe adds one to `stats.extractions` in manifest.json per run and never reads
/// lakepipe's entry file, so the larger count is the table's.
void MergeExtractions(TableEntry* entry, const TableEntry& manifest_entry);

/// The data files of the table's folder, in path order. A missing folder lists none.
arrow::Result<std::vector<FolderFile>> ListTableFolder(storage::Storage* storage,
                                                       const BucketLayout& layout,
                                                       const std::string& location);

/// The footer of the Parquet file at `uri`, read through Storage::OpenRead.
arrow::Result<FileFooter> ReadFileFooter(storage::Storage* storage, const storage::Uri& uri);

/// The entry a run of table `source`/`table` (at `location`) starts from: lakepipe's entry
/// file, else the entry DataSpoc Pipe (or another tool) wrote into manifest.json (adopted:
/// its stats and columns), else a new entry when only the folder has files; then
/// reconciled with the folder (ReconcileFiles, MergeExtractions). nullopt: the table has
/// no entry and no files. Writes nothing.
arrow::Result<std::optional<TableEntry>> LoadReconciledTable(
    storage::Storage* storage, ManifestStore* manifest, const BucketLayout& layout,
    const std::string& source, const std::string& table, const std::string& location);

}  // namespace lakepipe::lake
