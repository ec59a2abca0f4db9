#pragma once

#include <string>

namespace lakepipe::singer {

/// Singer replication asked of one stream through the catalog's metadata
/// ("replication-method", "replication-key"); an empty field leaves the tap's own choice.
struct StreamReplication {
  std::string method;  ///< INCREMENTAL | FULL_TABLE | LOG_BASED
  std::string key;
};

}  // namespace lakepipe::singer
