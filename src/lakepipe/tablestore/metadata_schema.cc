#include "lakepipe/tablestore/metadata_schema.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace lakepipe::tablestore::metadata_schema {
namespace {

enum class Type { kText, kInt64, kJson };

struct Column {
  std::string_view name;
  Type type;  ///< as of version 1; later versions may change it (kRetypes)
};

struct Table {
  std::string_view name;
  std::vector<Column> columns;
  std::vector<std::string_view> key;  ///< the primary key
  /// An index only PostgreSQL keeps (team databases hold every instance's runs); "" none.
  std::string_view postgres_index_name;
  std::string_view postgres_index_column;
};

/// Version `version` gives `table`.`column` the type `type`.
struct Retype {
  int version;
  std::string_view table;
  std::string_view column;
  Type type;
};

// The description: the tables as version 1 made them, then each later change.
const std::vector<Table>& Tables() {
  static const std::vector<Table> kTables = {
      {"stages",
       {{"instance", Type::kText},
        {"stage", Type::kText},
        {"committed_slot", Type::kText},
        {"run_id", Type::kText},
        {"committed_at", Type::kText}},
       {"instance", "stage"}},
      {"tasks",
       {{"instance", Type::kText},
        {"stage", Type::kText},
        {"task", Type::kText},
        {"cache_key", Type::kText},
        {"version", Type::kInt64},
        {"run_id", Type::kText},
        {"output_json", Type::kJson},
        {"slot", Type::kText}},
       {"instance", "stage", "slot", "task"}},
      {"tables",
       {{"instance", Type::kText},
        {"stage", Type::kText},
        {"slot", Type::kText},
        {"table", Type::kText},
        {"files_json", Type::kJson},
        {"rows", Type::kInt64},
        {"bytes", Type::kInt64},
        {"schema_json", Type::kJson},
        {"content_hash", Type::kText},
        {"partition_by", Type::kJson}},
       {"instance", "stage", "slot", "table"}},
      {"runs",
       {{"run_id", Type::kText},
        {"instance", Type::kText},
        {"flow", Type::kText},
        {"started_at", Type::kText},
        {"finished_at", Type::kText},
        {"status", Type::kText},
        {"error", Type::kText}},
       {"run_id"},
       "runs_instance",
       "instance"},
  };
  return kTables;
}

constexpr Retype kRetypes[] = {
    {2, "tasks", "version", Type::kText},
};

enum class Dialect { kSqlite, kPostgres, kDuckDb };

std::string_view TypeName(Dialect dialect, Type type) {
  switch (dialect) {
    case Dialect::kSqlite:
      return type == Type::kInt64 ? "INTEGER" : "TEXT";
    case Dialect::kPostgres:
      return type == Type::kText ? "text" : type == Type::kInt64 ? "bigint" : "jsonb";
    case Dialect::kDuckDb:
      return type == Type::kText ? "VARCHAR" : type == Type::kInt64 ? "BIGINT" : "JSON";
  }
  return "";
}

std::string_view Prefix(Dialect dialect) {
  switch (dialect) {
    case Dialect::kSqlite:
      return "";
    case Dialect::kPostgres:
      return "lakepipe_meta.";
    case Dialect::kDuckDb:
      return "lakepipe.";
  }
  return "";
}

/// A column name as SQL takes it ("table" is a keyword).
std::string Name(std::string_view name) {
  return name == "table" ? fmt::format("\"{}\"", name) : std::string(name);
}

/// `table` as of `version`: the retypes up to it applied.
Table AsOf(const Table& table, int version) {
  Table out = table;
  for (const auto& retype : kRetypes) {
    if (retype.version > version || retype.table != table.name) continue;
    for (auto& column : out.columns) {
      if (column.name == retype.column) column.type = retype.type;
    }
  }
  return out;
}

std::string CreateTable(Dialect dialect, const Table& table, bool if_not_exists) {
  const bool keys = dialect != Dialect::kDuckDb;  // the catalog's copies are rewritten whole
  const bool not_null = dialect == Dialect::kPostgres;
  const bool inline_key = keys && table.key.size() == 1;
  std::vector<std::string> parts;
  for (const auto& column : table.columns) {
    std::string part = fmt::format("{} {}", Name(column.name), TypeName(dialect, column.type));
    if (inline_key && column.name == table.key[0]) {
      part += " PRIMARY KEY";
    } else if (not_null) {
      part += " NOT NULL";
    }
    parts.push_back(std::move(part));
  }
  if (keys && !inline_key) {
    std::vector<std::string> names;
    for (auto key : table.key) names.push_back(Name(key));
    parts.push_back(fmt::format("PRIMARY KEY ({})", fmt::join(names, ", ")));
  }
  return fmt::format("CREATE TABLE {}{}{} ({});\n", if_not_exists ? "IF NOT EXISTS " : "",
                     Prefix(dialect), table.name, fmt::join(parts, ", "));
}

const Table& TableNamed(std::string_view name) {
  const auto& tables = Tables();
  return *std::find_if(tables.begin(), tables.end(),
                       [&](const Table& table) { return table.name == name; });
}

}  // namespace

int CurrentVersion() {
  int version = 1;
  for (const auto& retype : kRetypes) version = std::max(version, retype.version);
  return version;
}

std::string SqliteCreateTables() {
  std::string sql;
  for (const auto& table : Tables()) {
    sql += CreateTable(Dialect::kSqlite, AsOf(table, CurrentVersion()), /*if_not_exists=*/true);
  }
  return sql;
}

// SQLite cannot change a column's type: the table is copied into a new one, the column
// cast on the way (an integer version becomes its decimal text: 2 → "2").
std::string SqliteMigration(int version) {
  std::string sql;
  for (const auto& retype : kRetypes) {
    if (retype.version != version) continue;
    const Table after = AsOf(TableNamed(retype.table), version);
    std::vector<std::string> select;
    for (const auto& column : after.columns) {
      select.push_back(column.name == retype.column
                           ? fmt::format("CAST({} AS {})", Name(column.name),
                                         TypeName(Dialect::kSqlite, column.type))
                           : Name(column.name));
    }
    sql += fmt::format("ALTER TABLE {0} RENAME TO {0}_v{1};\n", after.name, version - 1);
    sql += CreateTable(Dialect::kSqlite, after, /*if_not_exists=*/false);
    sql += fmt::format("INSERT INTO {0} SELECT {2} FROM {0}_v{1};\n", after.name, version - 1,
                       fmt::join(select, ", "));
    sql += fmt::format("DROP TABLE {}_v{};\n", after.name, version - 1);
  }
  return sql;
}

std::string PostgresMigration(int version) {
  std::string sql;
  if (version == 1) {
    for (const auto& table : Tables()) {
      sql += CreateTable(Dialect::kPostgres, AsOf(table, 1), /*if_not_exists=*/false);
    }
    for (const auto& table : Tables()) {
      if (table.postgres_index_name.empty()) continue;
      sql += fmt::format("CREATE INDEX {} ON {}{} ({});\n", table.postgres_index_name,
                         Prefix(Dialect::kPostgres), table.name, table.postgres_index_column);
    }
  }
  for (const auto& retype : kRetypes) {
    if (retype.version != version) continue;
    const auto type = TypeName(Dialect::kPostgres, retype.type);
    sql += fmt::format("ALTER TABLE {}{} ALTER COLUMN {} TYPE {} USING {}::{};\n",
                       Prefix(Dialect::kPostgres), retype.table, Name(retype.column), type,
                       Name(retype.column), type);
  }
  return sql;
}

std::string DuckDbCreateTables() {
  std::string sql;
  for (const auto& table : Tables()) {
    sql += CreateTable(Dialect::kDuckDb, AsOf(table, CurrentVersion()), /*if_not_exists=*/true);
    for (const auto& retype : kRetypes) {
      if (retype.table != table.name) continue;
      sql += fmt::format("ALTER TABLE {}{} ALTER COLUMN {} SET DATA TYPE {};\n",
                         Prefix(Dialect::kDuckDb), table.name, Name(retype.column),
                         TypeName(Dialect::kDuckDb, retype.type));
    }
  }
  return sql;
}

}  // namespace lakepipe::tablestore::metadata_schema
