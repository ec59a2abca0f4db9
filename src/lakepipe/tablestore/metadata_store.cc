#include "lakepipe/tablestore/metadata_store.h"

#include "lakepipe/tablestore/embedded_metadata_store.h"
#include "lakepipe/tablestore/postgres_metadata_store.h"

namespace lakepipe::tablestore {

arrow::Result<std::unique_ptr<MetadataStore>> OpenMetadataStore(const std::string& metadata,
                                                                const std::string& embedded_path,
                                                                const std::string& lock_dir) {
  if (metadata.empty() || metadata == "embedded") {
    return OpenEmbeddedMetadataStore(embedded_path, lock_dir);
  }
  if (metadata.starts_with("postgresql://") || metadata.starts_with("postgres://")) {
    return OpenPostgresMetadataStore(metadata);
  }
  // The value is not repeated: a mistyped URL may hold a password.
  return arrow::Status::Invalid("metadata: use embedded or a postgresql:// URL");
}

}  // namespace lakepipe::tablestore
