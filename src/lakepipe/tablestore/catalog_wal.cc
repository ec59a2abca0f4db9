#include "lakepipe/tablestore/catalog_wal.h"

#include <filesystem>

#include "lakepipe/common/file_lock.h"
#include "lakepipe/duckdb/database.h"
#include "lakepipe/tablestore/layout.h"

namespace lakepipe::tablestore {
namespace {

namespace fs = std::filesystem;

std::string WalPath(const std::string& path) { return path + ".wal"; }

arrow::Result<std::unique_ptr<duckdb::Database>> OpenReadOnly(const std::string& path) {
  return duckdb::Database::Open({path, /*read_only=*/true, ""});
}

/// Whether the WAL beside `path` was written for another file: DuckDB opens a private
/// copy of the catalog without it but not with it. False when that cannot be told (the
/// copy itself will not open, or copying fails), so a WAL is never removed on a doubt.
/// The copy is named like the publication temps, so one a crash leaves is removed by the
/// next publication.
bool WalIsForeign(const std::string& path) {
  const std::string probe = layout::CatalogTempPath(path) + "-walcheck";
  std::error_code ec;
  bool foreign = false;
  if (fs::copy_file(path, probe, ec) && !ec && OpenReadOnly(probe).ok() &&
      fs::copy_file(WalPath(path), WalPath(probe), ec) && !ec) {
    foreign = !OpenReadOnly(probe).ok();
  }
  fs::remove(probe, ec);
  fs::remove(WalPath(probe), ec);
  return foreign;
}

}  // namespace

void SealCatalogWal(const std::string& path) {
  std::error_code ec;
  fs::remove(path + ".checkpoint.wal", ec);
  // Named like the publication temps, so one a crash leaves is removed by the next one.
  const std::string link = layout::CatalogTempPath(path) + "-wal";
  fs::create_symlink("/dev/null", link, ec);
  if (!ec) {
    fs::rename(link, WalPath(path), ec);
    if (!ec) return;
  }
  fs::remove(link, ec);
  fs::remove(WalPath(path), ec);
}

arrow::Result<std::unique_ptr<duckdb::Database>> OpenPublishedCatalog(const std::string& path) {
  auto db = OpenReadOnly(path);
  std::error_code ec;
  if (db.ok() || !fs::exists(WalPath(path), ec)) return db;
  // Under the publish lock no publication swaps the file while the WAL is judged.
  ARROW_ASSIGN_OR_RAISE(auto lock, FileLock::Wait(layout::CatalogLockPath(path)));
  if (!fs::exists(WalPath(path), ec) || !WalIsForeign(path)) return OpenReadOnly(path);
  fs::remove(WalPath(path), ec);
  return OpenReadOnly(path);
}

}  // namespace lakepipe::tablestore
