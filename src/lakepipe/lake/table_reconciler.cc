#include "lakepipe/lake/table_reconciler.h"

#include <algorithm>
#include <map>
#include <set>

#include <arrow/memory_pool.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include "lakepipe/storage/errors.h"

namespace lakepipe::lake {
namespace {

// A listed path is judged against the folder only where the table's own layout puts files;
// anything else the entry lists is not ours to drop.
bool InTableLayout(const std::string& path, const std::string& location) {
  return path.size() > location.size() && path.starts_with(location) &&
         BucketLayout::IsTableDataPath(std::string_view(path).substr(location.size()));
}

}  // namespace

arrow::Status ReconcileFiles(TableEntry* entry, const std::string& location,
                             const std::vector<FolderFile>& folder,
                             const FooterReader& read_footer) {
  std::map<std::string, const FolderFile*> on_disk;
  for (const auto& file : folder) on_disk[file.path] = &file;
  std::vector<parquet::DataFileMeta> files;
  std::set<std::string> listed;
  for (const auto& file : entry->files) {
    listed.insert(file.path);
    if (!InTableLayout(file.path, location)) {
      files.push_back(file);
      continue;
    }
    auto found = on_disk.find(file.path);
    if (found == on_disk.end()) continue;  // deleted by another writer
    parquet::DataFileMeta kept = file;
    if (found->second->bytes != file.bytes) {
      // Overwritten in place (DataSpoc restarts its numbering in each run's dt= folder).
      ARROW_ASSIGN_OR_RAISE(auto footer, read_footer(*found->second));
      kept = {file.path, footer.rows, found->second->bytes, "", std::move(footer.columns)};
    }
    files.push_back(std::move(kept));
  }
  for (const auto& file : folder) {
    if (listed.contains(file.path)) continue;
    ARROW_ASSIGN_OR_RAISE(auto footer, read_footer(file));
    files.push_back({file.path, footer.rows, file.bytes, "", std::move(footer.columns)});
  }
  const std::vector<parquet::Column> columns_before = entry->columns;
  entry->files = std::move(files);
  UnifyColumns(entry, columns_before, columns_before);
  entry->total_rows = 0;
  for (const auto& file : entry->files) entry->total_rows += file.rows;
  return arrow::Status::OK();
}

void MergeExtractions(TableEntry* entry, const TableEntry& manifest_entry) {
  entry->extractions = std::max(entry->extractions, manifest_entry.extractions);
}

arrow::Result<std::vector<FolderFile>> ListTableFolder(storage::Storage* storage,
                                                       const BucketLayout& layout,
                                                       const std::string& location) {
  const storage::Uri folder = layout.Resolve(location);
  ARROW_ASSIGN_OR_RAISE(auto listed, storage->List(folder, true));
  const std::string& folder_key = folder.key();
  std::vector<FolderFile> out;
  for (const auto& file : listed) {
    const std::string& key = file.uri.key();
    if (file.is_dir || !key.starts_with(folder_key)) continue;
    const std::string inside = key.substr(folder_key.size());
    if (!BucketLayout::IsTableDataPath(inside)) continue;
    out.push_back({location + inside, file.size});
  }
  std::sort(out.begin(), out.end(),
            [](const FolderFile& a, const FolderFile& b) { return a.path < b.path; });
  return out;
}

arrow::Result<FileFooter> ReadFileFooter(storage::Storage* storage, const storage::Uri& uri) {
  ARROW_ASSIGN_OR_RAISE(auto input, storage->OpenRead(uri));
  auto read = [&]() -> arrow::Result<FileFooter> {
    ARROW_ASSIGN_OR_RAISE(auto reader,
                          ::parquet::arrow::OpenFile(input, arrow::default_memory_pool()));
    std::shared_ptr<arrow::Schema> schema;
    ARROW_RETURN_NOT_OK(reader->GetSchema(&schema));
    return FileFooter{reader->parquet_reader()->metadata()->num_rows(),
                      parquet::ColumnsOf(*schema)};
  };
  arrow::Result<FileFooter> footer;
  try {
    footer = read();
  } catch (const ::parquet::ParquetException& e) {
    footer = arrow::Status::IOError(e.what());
  }
  if (!footer.ok()) {
    return storage::OperationFailed("reading the Parquet footer of", uri, footer.status());
  }
  return footer;
}

arrow::Result<std::optional<TableEntry>> LoadReconciledTable(
    storage::Storage* storage, ManifestStore* manifest, const BucketLayout& layout,
    const std::string& source, const std::string& table, const std::string& location) {
  ARROW_ASSIGN_OR_RAISE(auto entry, manifest->LoadTable(source, table));
  ARROW_ASSIGN_OR_RAISE(auto in_manifest, manifest->LoadManifestEntry(source, table));
  ARROW_ASSIGN_OR_RAISE(auto folder, ListTableFolder(storage, layout, location));
  if (entry && in_manifest) {
    MergeExtractions(&*entry, *in_manifest);
  } else if (in_manifest) {
    entry = std::move(in_manifest);  // DataSpoc's entry: adopted, files come from the folder
  } else if (!entry && !folder.empty()) {
    entry = TableEntry{};
    entry->source = source;
    entry->table = table;
  }
  if (!entry) return std::nullopt;
  entry->location = location;
  auto read_footer = [&](const FolderFile& file) {
    return ReadFileFooter(storage, layout.Resolve(file.path));
  };
  ARROW_RETURN_NOT_OK(ReconcileFiles(&*entry, location, folder, read_footer));
  return entry;
}

}  // namespace lakepipe::lake
