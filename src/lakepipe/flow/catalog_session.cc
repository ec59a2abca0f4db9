#include "lakepipe/flow/catalog_session.h"

#include <fmt/format.h>

#include "lakepipe/common/error_subject.h"
#include "lakepipe/storage/uri.h"
#include "lakepipe/tablestore/catalog.h"
#include "lakepipe/tablestore/catalog_wal.h"

namespace lakepipe::flow {

arrow::Result<std::unique_ptr<duckdb::Database>> OpenCatalogSession(const FlowConfig& config) {
  const Subject flow = Subject::Flow(config.name);
  auto db = tablestore::OpenPublishedCatalog(config.store.catalog_path);
  if (!db.ok()) {
    return WithSubject(db.status().WithMessage(fmt::format("cannot open catalog '{}' (has the "
                                                           "flow run?): {}",
                                                           config.store.catalog_path,
                                                           db.status().message())),
                       flow);
  }
  ARROW_RETURN_NOT_OK(WithSubject((*db)->ConfigureStorage(config.storage), flow));
  // Read-only means more than the catalog file: the session reads only under the flow's
  // table base, where every view's files are.
  ARROW_ASSIGN_OR_RAISE(auto base, storage::Uri::Parse(config.store.base));
  ARROW_RETURN_NOT_OK(WithSubject(
      (*db)->RestrictFileAccess({tablestore::DuckDbPath(base) + "/"}), flow));
  return std::move(*db);
}

arrow::Status CheckCatalogQuery(const FlowConfig& config, duckdb::Database& session,
                                const std::string& sql) {
  ARROW_RETURN_NOT_OK(storage::CheckNoUriCredentials(sql));  // as `lakepipe query`
  return WithSubject(session.CheckReadOnly(sql), Subject::Flow(config.name));
}

}  // namespace lakepipe::flow
