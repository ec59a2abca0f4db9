#include "lakepipe/duckdb/database.h"

#include <duckdb.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "lakepipe/common/build_config.h"
#include "lakepipe/duckdb/arrow_result.h"
#include "lakepipe/duckdb/storage_secrets.h"
#include "lakepipe/storage/redact.h"

namespace lakepipe::duckdb {

struct Database::Handles {
  duckdb_database db = nullptr;
  duckdb_connection conn = nullptr;
  ~Handles() {
    if (conn != nullptr) duckdb_disconnect(&conn);
    if (db != nullptr) duckdb_close(&db);
  }
};

namespace {

// Converts a failed duckdb_result into a Status: the one boundary for DuckDB errors.
/// DuckDB's message on one line: its lines joined, the caret line under "LINE n:" dropped
/// (it points into a line that is no longer above it).
std::string OneLine(const char* message) {
  if (message == nullptr) return "unknown error";
  std::string out;
  std::string_view rest(message);
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    const size_t first = line.find_first_not_of(' ');
    if (first == std::string_view::npos || line.substr(first) == "^") continue;
    if (!out.empty()) out += ' ';
    out += line;
  }
  return out;
}

arrow::Status ResultError(duckdb_result* result) {
  return arrow::Status::Invalid(
      storage::RedactSecrets(fmt::format("DuckDB: {}", OneLine(duckdb_result_error(result)))));
}

// duckdb_arrow_scan (DuckDB 1.5.5 C API, src/main/capi/arrow-c.cpp) asks the stream for
// its schema when the view is registered and each time it is bound, and releases none of
// those schemas ("the caller's responsibility", though the caller never sees them): each
// was a leaked export (found by `make test-asan`). OwningSchemaStream wraps the caller's
// stream in place: it keeps every schema it hands out, gives DuckDB copies whose release
// does nothing, and releases them all with the stream.
class OwningSchemaStream {
 public:
  static void Wrap(ArrowArrayStream* stream) {
    auto* self = new OwningSchemaStream(*stream);
    *stream = ArrowArrayStream{};
    stream->get_schema = GetSchema;
    stream->get_next = GetNext;
    stream->get_last_error = GetLastError;
    stream->release = Release;
    stream->private_data = self;
  }

 private:
  explicit OwningSchemaStream(ArrowArrayStream inner) : inner_(inner) {}

  static OwningSchemaStream* Self(ArrowArrayStream* stream) {
    return static_cast<OwningSchemaStream*>(stream->private_data);
  }

  static int GetSchema(ArrowArrayStream* stream, ArrowSchema* out) {
    auto* self = Self(stream);
    std::lock_guard lock(self->mutex_);
    ArrowSchema schema;
    if (const int rc = self->inner_.get_schema(&self->inner_, &schema); rc != 0) return rc;
    self->schemas_.push_back(schema);  // moved: ArrowSchema structs may be moved bitwise
    *out = schema;
    out->release = [](ArrowSchema* borrowed) { borrowed->release = nullptr; };
    return 0;
  }

  static int GetNext(ArrowArrayStream* stream, ArrowArray* out) {
    auto* self = Self(stream);
    return self->inner_.get_next(&self->inner_, out);
  }

  static const char* GetLastError(ArrowArrayStream* stream) {
    auto* self = Self(stream);
    return self->inner_.get_last_error(&self->inner_);
  }

  static void Release(ArrowArrayStream* stream) {
    auto* self = Self(stream);
    for (auto& schema : self->schemas_) {
      if (schema.release != nullptr) schema.release(&schema);
    }
    if (self->inner_.release != nullptr) self->inner_.release(&self->inner_);
    delete self;
    stream->release = nullptr;
  }

  ArrowArrayStream inner_;
  std::mutex mutex_;
  std::vector<ArrowSchema> schemas_;
};

// How a refused statement is named in the error.
const char* StatementKind(duckdb_statement_type type) {
  switch (type) {
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_MERGE_INTO: return "MERGE";
    case DUCKDB_STATEMENT_TYPE_EXPLAIN: return "EXPLAIN";
    case DUCKDB_STATEMENT_TYPE_CREATE:
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_COPY:
    case DUCKDB_STATEMENT_TYPE_COPY_DATABASE: return "COPY";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "INSTALL or LOAD";
    case DUCKDB_STATEMENT_TYPE_UPDATE_EXTENSIONS: return "UPDATE EXTENSIONS";
    case DUCKDB_STATEMENT_TYPE_SET:
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET: return "SET";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "transaction";
    default: return "non-SELECT";
  }
}

std::string ExtensionDir(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("LAKEPIPE_DUCKDB_EXTENSIONS")) return env;
  return kDefaultDuckdbExtensionDir;
}

}  // namespace

std::string SqlString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  out.push_back('\'');
  return out;
}

std::string Database::LibraryVersion() { return duckdb_library_version(); }

arrow::Status Database::CheckReadOnly(std::string_view sql) {
  const std::string text(sql);
  duckdb_extracted_statements extracted = nullptr;
  const idx_t count = duckdb_extract_statements(handles_->conn, text.c_str(), &extracted);
  arrow::Status status;
  if (count == 0) {
    const char* error = extracted ? duckdb_extract_statements_error(extracted) : nullptr;
    status = error ? arrow::Status::Invalid(storage::RedactSecrets(
                         fmt::format("DuckDB: {}", OneLine(error))))
                   : arrow::Status::Invalid("no SQL statement given");
  } else if (count > 1) {
    status = arrow::Status::Invalid(
        fmt::format("this command runs one SELECT at a time; got {} statements", count));
  } else {
    duckdb_prepared_statement prepared = nullptr;
    if (duckdb_prepare_extracted_statement(handles_->conn, extracted, 0, &prepared) !=
        DuckDBSuccess) {
      status = arrow::Status::Invalid(storage::RedactSecrets(
          fmt::format("DuckDB: {}", OneLine(duckdb_prepare_error(prepared)))));
    } else if (const auto type = duckdb_prepared_statement_type(prepared);
               type != DUCKDB_STATEMENT_TYPE_SELECT) {
      status = arrow::Status::Invalid(fmt::format(
          "this command is read-only: it runs a single SELECT, not a {} statement",
          StatementKind(type)));
    }
    duckdb_destroy_prepare(&prepared);
  }
  duckdb_destroy_extracted(&extracted);
  return status;
}

arrow::Status Database::RestrictFileAccess(const std::vector<std::string>& directories) {
  std::string list;
  for (const auto& d : directories) list += (list.empty() ? "" : ", ") + SqlString(d);
  return Execute(fmt::format(
      "SET allowed_directories = [{}]; SET enable_external_access = false; "
      "SET lock_configuration = true",
      list));
}

Database::Database(std::unique_ptr<Handles> handles, std::string extension_dir)
    : handles_(std::move(handles)), extension_dir_(std::move(extension_dir)) {}

Database::~Database() = default;

arrow::Result<std::unique_ptr<Database>> Database::Open(const Options& options) {
  auto handles = std::make_unique<Handles>();
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    return arrow::Status::OutOfMemory("DuckDB: cannot create a config");
  }
  if (options.read_only) duckdb_set_config(config, "access_mode", "READ_ONLY");
  // Extensions come only from our pinned files, never downloaded at run time.
  duckdb_set_config(config, "autoinstall_known_extensions", "false");
  duckdb_set_config(config, "autoload_known_extensions", "false");
  char* error = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  const auto state = duckdb_open_ext(path, &handles->db, config, &error);
  duckdb_destroy_config(&config);
  if (state != DuckDBSuccess) {
    std::string message = error ? error : "unknown error";
    if (error) duckdb_free(error);
    return arrow::Status::IOError(fmt::format("opening DuckDB database '{}': {}",
                                              options.path.empty() ? ":memory:" : options.path,
                                              message));
  }
  if (duckdb_connect(handles->db, &handles->conn) != DuckDBSuccess) {
    return arrow::Status::IOError(fmt::format("connecting to DuckDB database '{}'", options.path));
  }
  return std::unique_ptr<Database>(
      new Database(std::move(handles), ExtensionDir(options.extension_dir)));
}

arrow::Status Database::Execute(std::string_view sql) {
  duckdb_result result;
  const std::string text(sql);
  const auto state = duckdb_query(handles_->conn, text.c_str(), &result);
  arrow::Status status = state == DuckDBSuccess ? arrow::Status::OK() : ResultError(&result);
  duckdb_destroy_result(&result);
  return status;
}

arrow::Result<TextResult> Database::QueryText(std::string_view sql) {
  duckdb_result result;
  std::string text(sql);
  // duckdb_value_varchar cannot print every type (timestamps with zone, lists, structs
  // come out empty): a single SELECT runs with each column cast to VARCHAR instead, which
  // prints values as DuckDB's own shell does.
  {
    std::string trimmed = text;
    while (!trimmed.empty() &&
           (std::isspace(static_cast<unsigned char>(trimmed.back())) || trimmed.back() == ';')) {
      trimmed.pop_back();
    }
    duckdb_prepared_statement prepared = nullptr;
    if (duckdb_prepare(handles_->conn, trimmed.c_str(), &prepared) == DuckDBSuccess &&
        duckdb_prepared_statement_type(prepared) == DUCKDB_STATEMENT_TYPE_SELECT) {
      text = "SELECT COLUMNS(*)::VARCHAR FROM (\n" + trimmed + "\n)";
    }
    duckdb_destroy_prepare(&prepared);
  }
  if (duckdb_query(handles_->conn, text.c_str(), &result) != DuckDBSuccess) {
    auto status = ResultError(&result);
    duckdb_destroy_result(&result);
    return status;
  }
  TextResult out;
  const idx_t columns = duckdb_column_count(&result);
  const idx_t rows = duckdb_row_count(&result);
  for (idx_t c = 0; c < columns; ++c) out.columns.emplace_back(duckdb_column_name(&result, c));
  out.rows.reserve(rows);
  for (idx_t r = 0; r < rows; ++r) {
    auto& row = out.rows.emplace_back();
    for (idx_t c = 0; c < columns; ++c) {
      if (duckdb_value_is_null(&result, c, r)) {
        row.emplace_back(std::nullopt);
        continue;
      }
      char* value = duckdb_value_varchar(&result, c, r);
      row.emplace_back(value ? std::string(value) : std::string());
      if (value) duckdb_free(value);
    }
  }
  duckdb_destroy_result(&result);
  return out;
}

arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> Database::QueryArrow(
    std::string_view sql) {
  // A streaming result: DuckDB computes chunks as they are fetched, so a large result is
  // never held whole in memory.
  const std::string text(sql);
  duckdb_prepared_statement prepared = nullptr;
  if (duckdb_prepare(handles_->conn, text.c_str(), &prepared) != DuckDBSuccess) {
    auto status = arrow::Status::Invalid(
        storage::RedactSecrets(fmt::format("DuckDB: {}", OneLine(duckdb_prepare_error(prepared)))));
    duckdb_destroy_prepare(&prepared);
    return status;
  }
  duckdb_pending_result pending = nullptr;
  if (duckdb_pending_prepared_streaming(prepared, &pending) != DuckDBSuccess) {
    auto status = arrow::Status::Invalid(
        storage::RedactSecrets(fmt::format("DuckDB: {}", OneLine(duckdb_pending_error(pending)))));
    duckdb_destroy_pending(&pending);
    duckdb_destroy_prepare(&prepared);
    return status;
  }
  duckdb_result result;
  const bool ok = duckdb_execute_pending(pending, &result) == DuckDBSuccess;
  duckdb_destroy_pending(&pending);
  duckdb_destroy_prepare(&prepared);
  if (!ok) {
    auto status = ResultError(&result);
    duckdb_destroy_result(&result);
    return status;
  }
  return ReadResultAsArrow(&result);  // owns the result from here
}

arrow::Status Database::RegisterArrowView(const std::string& name, ArrowArrayStream* stream) {
  // duckdb_arrow_scan is marked deprecated in 1.5 but is the C API's only way to scan a
  // caller's Arrow stream; BatchSql's comment says how we work around its projection issue.
  OwningSchemaStream::Wrap(stream);
  if (duckdb_arrow_scan(handles_->conn, name.c_str(),
                        reinterpret_cast<duckdb_arrow_stream>(stream)) != DuckDBSuccess) {
    return arrow::Status::Invalid(
        fmt::format("DuckDB: cannot register an Arrow stream as '{}'", name));
  }
  return arrow::Status::OK();
}

arrow::Status Database::LoadExtension(std::string_view name) {
  const std::string key(name);
  if (std::find(loaded_.begin(), loaded_.end(), key) != loaded_.end()) {
    return arrow::Status::OK();
  }
  if (extension_dir_.empty()) {
    return arrow::Status::IOError(fmt::format(
        "DuckDB extension '{}': no extension folder is known (set LAKEPIPE_DUCKDB_EXTENSIONS)",
        key));
  }
  const auto file = std::filesystem::path(extension_dir_) / (key + ".duckdb_extension");
  if (!std::filesystem::exists(file)) {
    return arrow::Status::IOError(
        fmt::format("DuckDB extension '{}' not found at '{}' (run scripts/install-deps, or set "
                    "LAKEPIPE_DUCKDB_EXTENSIONS)",
                    key, file.string()));
  }
  ARROW_RETURN_NOT_OK(Execute(fmt::format("LOAD {}", SqlString(file.string()))));
  loaded_.push_back(key);
  return arrow::Status::OK();
}

arrow::Status Database::ConfigureStorage(const storage::StorageOptions& options) {
  ARROW_RETURN_NOT_OK(LoadExtension("httpfs"));
  ARROW_RETURN_NOT_OK(LoadExtension("azure"));
  for (const auto& statement : StorageSecretStatements(options)) {
    ARROW_RETURN_NOT_OK(Execute(statement));
  }
  for (const auto& statement : StorageSettingStatements(options)) {
    ARROW_RETURN_NOT_OK(Execute(statement));
  }
  return arrow::Status::OK();
}

}  // namespace lakepipe::duckdb
