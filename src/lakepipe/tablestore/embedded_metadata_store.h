#pragma once

#include <memory>
#include <string>

#include <arrow/result.h>

#include "lakepipe/tablestore/metadata_store.h"

namespace lakepipe::tablestore {

/// The default metadata store: a SQLite file (usually beside the catalog), opened for the
/// moment of each call, in WAL mode so other processes (`flow status`, a second run
/// waiting for its locks) read and write it too; locks are OS file locks under `lock_dir`. Serves
/// one machine: several machines sharing a bucket need the PostgreSQL store.
arrow::Result<std::unique_ptr<MetadataStore>> OpenEmbeddedMetadataStore(std::string path,
                                                                        std::string lock_dir);

}  // namespace lakepipe::tablestore
