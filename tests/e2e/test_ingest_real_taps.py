"""`lakepipe run` with real Singer taps installed from PyPI by scripts/install-deps:
MeltanoLabs' Meltano-SDK taps tap-jsonl and tap-postgres (against a real PostgreSQL 15)."""
import datetime as dt
from decimal import Decimal

import duckdb

from ingest_support import TAP_JSONL, TAP_POSTGRES, rows_of, tap_postgres_config, write_jsonl



def test_tap_jsonl_lands_the_file_rows_on_every_backend(lake, tmp_path):
    rows = [{"id": i, "name": f"thing {i}", "price": round(i * 0.75, 2)} for i in range(1, 41)]
    rows[3]["name"] = None
    source = write_jsonl(tmp_path / "things.jsonl", rows)
    lake.pipeline("jsonl-things", {"tap": str(TAP_JSONL),
                                   "config": {"path": str(source), "stream_name": "things"}})
    out = lake.run("jsonl-things").stdout
    assert "things: 40 records" in out

    entry = lake.entry("jsonl/things")  # "<source>" is the tap's name without "tap-"
    assert entry["location"] == "raw/jsonl/things"
    assert entry["stats"]["total_rows"] == 40
    table = lake.read_table("jsonl/things")
    assert rows_of(table, "id", "name", "price") == [
        (r["id"], r["name"], r["price"]) for r in rows]
    assert set(table.column("_sdc_filename").to_pylist()) == {str(source)}
    assert [f["path"] for f in entry["files"]] == lake.data_files("raw")


def test_tap_postgres_lands_a_table_equal_to_the_database_on_every_backend(lake, postgres):
    # One table per backend: the PostgreSQL server is shared by the whole session.
    table_name = f"orders_e2e_{lake.backend.name}"
    stream = f"public-{table_name}"
    postgres.psql(f"DROP TABLE IF EXISTS {table_name}")
    postgres.psql(f"CREATE TABLE {table_name} (id integer PRIMARY KEY, customer text NOT NULL, "
                  "amount numeric(10,2), created_at timestamptz, active boolean, tags text[])")
    postgres.psql(
        f"INSERT INTO {table_name} SELECT g, 'customer ' || g, (g * 1.25)::numeric(10,2), "
        "timestamptz '2024-03-01 10:00:00+00' + g * interval '1 hour', g % 2 = 0, "
        "ARRAY['t' || g, 'u'] FROM generate_series(1, 60) g")
    postgres.psql(f"UPDATE {table_name} SET amount = NULL, created_at = NULL, tags = NULL "
                  "WHERE id = 7")
    lake.pipeline("pg-orders", {
        "tap": str(TAP_POSTGRES),
        "config": tap_postgres_config(postgres),
        "streams": [stream],
    })
    out = lake.run("pg-orders", timeout=180).stdout
    assert f"{stream}: 60 records" in out

    entry = lake.entry(f"postgres/{stream}")
    assert entry["stats"]["total_rows"] == 60
    table = lake.read_table(f"postgres/{stream}")
    types = {f.name: str(f.type) for f in table.schema}
    assert types["id"] == "int64"
    assert types["created_at"] == "timestamp[us, tz=UTC]"
    assert types["active"] == "bool"

    # The database's own rows, through psql.
    expected = []
    for line in postgres.psql(
            "SELECT id, customer, amount, extract(epoch from created_at)::bigint, active, "
            f"array_to_string(tags, ',') FROM {table_name} ORDER BY id").splitlines():
        i, customer, amount, epoch, active, tags = line.split("|")
        expected.append((int(i), customer, Decimal(amount) if amount else None,
                         dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else None,
                         active == "t", tags.split(",") if tags else None))
    got = [(r[0], r[1], None if r[2] is None else Decimal(str(r[2])).quantize(Decimal("0.01")),
            r[3], r[4], r[5])
           for r in rows_of(table, "id", "customer", "amount", "created_at", "active", "tags")]
    assert got == expected

    if lake.backend.name == "file":  # and DuckDB agrees, reading the file itself
        path = lake.local_root / entry["files"][0]["path"]
        assert duckdb.sql(f"SELECT count(*), sum(id) FROM read_parquet('{path}')").fetchone() == (
            60, sum(range(1, 61)))
