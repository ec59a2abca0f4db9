#pragma once

#include <string>

#include "lakepipe/storage/uri.h"
#include "lakepipe/tablestore/metadata.h"

namespace lakepipe::tablestore {

/// The one SELECT that reads `table` (its files under `base`) back, used by the catalog's
/// slot views and by the views of SQL sessions alike: it yields exactly the columns of the
/// table's recorded schema, in that order, empty or not. Hive partition columns come from
/// the folder names (typed as recorded where DuckDB has the type) and keep their place
/// instead of moving last; an empty partitioned table's one file holds every column.
std::string TableScanSql(const storage::Uri& base, const TableRecord& table);

}  // namespace lakepipe::tablestore
