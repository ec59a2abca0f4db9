#pragma once

#include <memory>
#include <string>

#include <arrow/result.h>

#include "lakepipe/tablestore/metadata_store.h"

namespace lakepipe::tablestore {

/// The default metadata store: a DuckDB file (usually beside the catalog), opened only for
/// the moment of each call so other processes (`flow status`, a second run waiting for its
/// locks) can open it too; locks are OS file locks under `lock_dir`. Serves one machine:
/// several machines sharing a bucket need the PostgreSQL store.
arrow::Result<std::unique_ptr<MetadataStore>> OpenEmbeddedMetadataStore(std::string path,
                                                                        std::string lock_dir);

}  // namespace lakepipe::tablestore
