"""Incremental runs with real taps are exactly once (issue 14 §4): the catalog asks for
INCREMENTAL on the replication key, the rows a tap sends again at its bookmark (`>=`) are not
appended again, and the manifest says what identifies a row. Taps from PyPI, installed by
scripts/install-deps: meltanolabs-tap-postgres (Meltano SDK) and pipelinewise-tap-postgres."""
import duckdb
import pytest

from ingest_support import TAP_PIPELINEWISE_POSTGRES as TAP_PIPELINEWISE
from ingest_support import TAP_POSTGRES as TAP_MELTANO
from ingest_support import tap_postgres_config


def make_table(postgres, name):
    postgres.psql(f"DROP TABLE IF EXISTS {name}")
    postgres.psql(f"CREATE TABLE {name} (id integer PRIMARY KEY, v text, updated_at integer, "
                  "tags integer[])")
    postgres.psql(f"INSERT INTO {name} SELECT g, 'v' || g, g / 2, ARRAY[g, NULL] "
                  "FROM generate_series(1, 9) g")


def committed_ids(lake, key):
    """Every id the table's files hold, with repeats, read by DuckDB from the files."""
    entry = lake.entry(key)
    files = [str(lake.local_root / f["path"]) for f in entry["files"]]
    return sorted(r[0] for r in duckdb.sql(
        f"SELECT id FROM read_parquet({files}, union_by_name=true)").fetchall())


def globbed_ids(lake, key):
    entry = lake.entry(key)
    glob = f"{lake.local_root}/{entry['location']}/**/*.parquet"
    return sorted(r[0] for r in duckdb.sql(f"SELECT id FROM read_parquet('{glob}')").fetchall())


TAPS = {
    "meltano": (TAP_MELTANO, tap_postgres_config, "public-{table}"),
    "pipelinewise": (TAP_PIPELINEWISE, lambda pg: {
        "host": "127.0.0.1", "port": pg.port, "user": "lakepipe", "password": "trust",
        "dbname": "postgres", "filter_schemas": "public"}, "public-{table}"),
}


@pytest.mark.parametrize("tap", sorted(TAPS))
def test_incremental_runs_of_a_real_tap_append_each_row_once(local_lake, postgres, tap):
    lake = local_lake
    command, config, stream_of = TAPS[tap]
    table = f"inc_{tap}"
    stream = stream_of.format(table=table)
    make_table(postgres, table)
    lake.pipeline(f"pg-{tap}", {"tap": str(command), "config": config(postgres),
                                "streams": [stream]},
                  incremental={"enabled": True, "replication_key": "updated_at"})
    lake.run(f"pg-{tap}", timeout=180)
    key = f"postgres/{stream}"
    assert committed_ids(lake, key) == list(range(1, 10))

    # Unchanged source: the tap re-sends the rows at its bookmark (updated_at >= 4: ids 8,
    # 9); none is appended again.
    lake.run(f"pg-{tap}", timeout=180)
    assert committed_ids(lake, key) == list(range(1, 10))
    log = lake.logs(f"pg-{tap}")[-1]
    assert log["source"]["rows_already_committed"] == {stream: 2}

    # A new row tied with the bookmark, and one above it: each lands once.
    postgres.psql(f"INSERT INTO {table} VALUES (20, 'tie', 4, NULL), (21, 'new', 5, NULL)")
    lake.run(f"pg-{tap}", timeout=180)
    lake.run(f"pg-{tap}", timeout=180)
    assert committed_ids(lake, key) == list(range(1, 10)) + [20, 21]
    assert globbed_ids(lake, key) == list(range(1, 10)) + [20, 21]

    entry = lake.entry(key)
    assert entry["key_properties"] == ["id"]
    assert entry["replication_key"] == "updated_at"
    state = lake.state(f"pg-{tap}")
    assert state["lakepipe"]["boundaries"][stream]["value"] == "5"
    assert "bookmarks" in state  # the tap's own, untouched


def test_the_catalog_asks_for_incremental_per_stream(local_lake, tmp_path):
    from ingest_support import SampleTap
    tap = SampleTap(tmp_path / "tap", streams=("a", "b"))
    tap.add_rows([{"id": 1, "name": "x", "amount": 1.0}], "a")
    tap.add_rows([{"id": 1, "name": "y", "amount": 2.0}], "b")
    local_lake.pipeline("two", tap.source(), incremental={
        "enabled": True, "replication_key": "id",
        "streams": {"b": {"replication_method": "FULL_TABLE"}}})
    local_lake.run("two")
    catalog = tap.calls()[-1]["catalog"]
    metadata = {s["tap_stream_id"]: next(m["metadata"] for m in s["metadata"]
                                         if m["breadcrumb"] == []) for s in catalog["streams"]}
    assert metadata["a"] == {"inclusion": "available", "table-key-properties": ["id"],
                             "selected": True, "replication-method": "INCREMENTAL",
                             "replication-key": "id"}
    assert metadata["b"]["replication-method"] == "FULL_TABLE"
    assert metadata["b"]["replication-key"] == "id"


def test_a_discovered_catalog_keeps_the_taps_column_order(local_lake, postgres):
    lake = local_lake
    postgres.psql("DROP TABLE IF EXISTS ordered_cols")
    postgres.psql("CREATE TABLE ordered_cols (zeta integer PRIMARY KEY, alpha text, mid integer)")
    postgres.psql("INSERT INTO ordered_cols VALUES (1, 'a', 2)")
    lake.pipeline("ordered", {"tap": str(TAP_MELTANO), "config": TAPS["meltano"][1](postgres),
                              "streams": ["public-ordered_cols"]})
    lake.run("ordered", timeout=180)
    names = [c["name"] for c in lake.entry("postgres/public-ordered_cols")["columns"]]
    assert names == ["zeta", "alpha", "mid"]


@pytest.mark.parametrize("transform", [None, "SELECT id, k FROM batch"])
def test_postgres_reader_reads_rows_tied_with_the_bookmark_once(local_lake, postgres, transform):
    lake = local_lake
    top = {"transform": {"sql": transform}} if transform else {}
    postgres.psql("DROP TABLE IF EXISTS reader_ties")
    postgres.psql("CREATE TABLE reader_ties (id integer, k integer)")
    postgres.psql("INSERT INTO reader_ties VALUES (1, 1), (2, 2), (3, NULL)")
    lake.pipeline("ties", {"reader": "postgres", "uri": postgres.url,
                           "options": {"table": "public.reader_ties"}, "stream": "ties~x"},
                  incremental={"enabled": True, "replication_key": "k"}, **top)
    lake.run("ties")
    # A row tied with the bookmark (k = 2) arrives after the run: strict '>' lost it.
    postgres.psql("INSERT INTO reader_ties VALUES (4, 2), (5, 3)")
    lake.run("ties")  # a '~' in the stream name used to abort here
    lake.run("ties")
    assert committed_ids(lake, "postgres/ties~x") == [1, 2, 3, 4, 5]
    assert lake.state("ties")["bookmarks"]["ties~x"]["replication_key_value"] == 3
