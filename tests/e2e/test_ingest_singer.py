"""`lakepipe run` with a Singer tap written by the tests: the bucket contract (data files,
manifest, state, logs), full refresh, incremental runs and Singer's type mapping, read
back with pyarrow, DuckDB and Polars."""
import datetime as dt
import json
import re

import duckdb
import polars as pl
import pyarrow as pa

from ingest_support import (ReplayTap, SampleTap, record_msg, rows_of, sample_rows,
                            schema_msg, singer_lines)

TABLE = "sample/things"
LOCATION = "raw/sample/things"
ISO_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def utc_today() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_full_refresh_lands_all_rows_on_every_backend(lake, tmp_path):
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 25))
    lake.pipeline("things", tap.source())
    out = lake.run("things").stdout
    assert "things: 25 records" in out
    assert lake.data_files("raw") == [f"{LOCATION}/things_0000.parquet"]
    table = lake.read_parquet(f"{LOCATION}/things_0000.parquet")
    assert rows_of(table, "id", "name", "amount") == [
        (r["id"], r["name"], r["amount"]) for r in sample_rows(1, 25)]
    assert lake.entry(TABLE)["stats"]["total_rows"] == 25


def test_manifest_entry_has_source_location_stats_columns_and_files(local_lake, tmp_path):
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 7))
    local_lake.pipeline("things", tap.source())
    before = dt.datetime.now(dt.timezone.utc)
    local_lake.run("things")
    after = dt.datetime.now(dt.timezone.utc)

    manifest = local_lake.manifest()
    assert manifest["version"]
    assert parse_iso(manifest["updated_at"])
    assert list(manifest["tables"]) == [TABLE]
    entry = manifest["tables"][TABLE]
    assert entry["source"] == "sample"  # "tap-sample.py" without "tap-"
    assert entry["table"] == "things"
    assert entry["location"] == LOCATION
    assert entry["mode"] == "full"
    assert entry["pipeline"] == "things"
    assert entry["columns"] == [{"name": "id", "type": "int64", "nullable": True},
                                {"name": "name", "type": "string", "nullable": True},
                                {"name": "amount", "type": "double", "nullable": True}]
    stats = entry["stats"]
    assert (stats["total_rows"], stats["extractions"], stats["last_extraction_rows"]) == (7, 1, 7)
    path = f"{LOCATION}/things_0000.parquet"
    size = (local_lake.local_root / path).stat().st_size
    assert entry["files"] == [{"path": path, "rows": 7, "bytes": size}]
    assert entry["next_file_number"] == 1
    # The per-table entry is the same document.
    assert local_lake.read_json(".dataspoc/tables/sample/things.json") == entry
    # One success log.
    [log] = local_lake.logs("things")
    assert log["status"] == "success"
    assert log["pipeline"] == "things"
    assert log["total_records"] == 7
    assert log["streams"]["things"]["records"] == 7
    assert "error" not in log
    # A full refresh pipeline has no bookmark to keep, but stores the tap's STATE.
    assert local_lake.state("things") == {"bookmarks": {"things": {"id": 7}}}
    # DataSpoc's timestamp spelling (isoformat() of an aware UTC datetime, microseconds).
    extracted = parse_iso(stats["last_extraction"])
    assert before - dt.timedelta(seconds=1) <= extracted <= after + dt.timedelta(seconds=1)
    assert ISO_MICROS.match(stats["last_extraction"]), stats["last_extraction"]


def test_incremental_runs_advance_state_into_dt_partitions_without_duplicates(
        local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 5))
    lake.pipeline("things", tap.source(), incremental={"enabled": True})

    before = utc_today()
    lake.run("things")
    [first_file] = lake.data_files("raw")
    day = first_file.split("/dt=")[1].split("/")[0]
    assert day in (before, utc_today())  # the extraction date, UTC
    assert lake.state("things") == {"bookmarks": {"things": {"id": 5}}}
    assert first_file == f"{LOCATION}/dt={day}/things_0000.parquet"

    tap.add_rows(sample_rows(6, 9))
    out = lake.run("things").stdout
    assert "things: 4 records" in out
    # The tap got the committed bookmark.
    assert tap.calls()[-1]["state"] == {"bookmarks": {"things": {"id": 5}}}
    assert lake.state("things") == {"bookmarks": {"things": {"id": 9}}}
    assert lake.data_files("raw") == [f"{LOCATION}/dt={day}/things_0000.parquet",
                                      f"{LOCATION}/dt={day}/things_0001.parquet"]
    entry = lake.entry(TABLE)
    assert entry["mode"] == "incremental"
    assert (entry["stats"]["total_rows"], entry["stats"]["extractions"],
            entry["stats"]["last_extraction_rows"]) == (9, 2, 4)
    assert [f["rows"] for f in entry["files"]] == [5, 4]

    bucket = lake.local_root
    ids = duckdb.sql(f"SELECT id FROM read_parquet('{bucket}/{LOCATION}/**/*.parquet', "
                     "hive_partitioning = true) ORDER BY id").fetchall()
    assert [i for (i,) in ids] == list(range(1, 10))
    days = duckdb.sql(f"SELECT DISTINCT dt::VARCHAR FROM read_parquet('{bucket}/{LOCATION}/**/"
                      "*.parquet', hive_partitioning = true)").fetchall()
    assert days == [(day,)]

    # Nothing new at the source: no new file, no new rows, one more extraction.
    lake.run("things")
    entry = lake.entry(TABLE)
    assert len(lake.data_files("raw")) == 2
    assert (entry["stats"]["total_rows"], entry["stats"]["extractions"],
            entry["stats"]["last_extraction_rows"]) == (9, 3, 0)
    assert lake.state("things") == {"bookmarks": {"things": {"id": 9}}}


def test_full_flag_replaces_an_incremental_table_and_deletes_old_files(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 5))
    lake.pipeline("things", tap.source(), incremental={"enabled": True})
    lake.run("things")
    tap.add_rows(sample_rows(6, 8))
    lake.run("things")
    old_files = lake.data_files("raw")
    assert len(old_files) == 2

    # The source lost rows: only a full refresh shows that.
    tap.set_rows(sample_rows(1, 4))
    lake.run("things", "--full")
    assert tap.calls()[-1]["state"] is None  # a full refresh starts without a bookmark
    new_files = lake.data_files("raw")
    # Numbers never reused, and the table keeps one layout: the full refresh of an
    # incremental pipeline lands in a dt= folder too.
    today = dt.datetime.now(dt.timezone.utc).date()
    assert new_files == [f"{LOCATION}/dt={today.isoformat()}/things_0002.parquet"]
    assert not set(old_files) & set(new_files)
    entry = lake.entry(TABLE)
    assert entry["mode"] == "full"
    assert [f["path"] for f in entry["files"]] == new_files
    assert (entry["stats"]["total_rows"], entry["stats"]["extractions"],
            entry["stats"]["last_extraction_rows"]) == (4, 3, 4)
    bucket = lake.local_root
    frame = pl.read_parquet(f"{bucket}/{LOCATION}/**/*.parquet")
    assert sorted(frame["id"].to_list()) == [1, 2, 3, 4]
    # As DataSpoc Lens reads it: hive partitioning on, the dt column kept.
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT dt) FROM read_parquet("
                      f"'{bucket}/{LOCATION}/**/*.parquet', hive_partitioning=true)").fetchone() == (4, 1)
    assert lake.state("things")["bookmarks"] == {"things": {"id": 4}}


NESTED_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "address": {"type": ["null", "object"], "properties": {
        "city": {"type": "string"},
        "geo": {"type": "object", "properties": {"lat": {"type": "number"},
                                                 "lon": {"type": "number"}}}}},
    "tags": {"type": ["null", "array"], "items": {"type": "string"}},
    "lines": {"type": "array", "items": {"type": "object", "properties": {
        "sku": {"type": "string"}, "qty": {"type": "integer"}}}},
    "extra": {"type": ["null", "object"]},
}}


def test_nested_object_becomes_struct_and_array_becomes_list(local_lake, tmp_path):
    lake = local_lake
    rows = [
        {"id": 1, "address": {"city": "Lisbon", "geo": {"lat": 38.7, "lon": -9.1}},
         "tags": ["a", "b"], "lines": [{"sku": "x", "qty": 2}, {"sku": "y", "qty": 1}],
         "extra": {"any": [1, 2]}},
        {"id": 2, "address": None, "tags": [], "lines": [], "extra": None},
        {"id": 3, "address": {"city": "Porto", "geo": {"lat": 41.1, "lon": -8.6}},
         "tags": None, "lines": [{"sku": "z", "qty": 5}]},
    ]
    tap = SampleTap(tmp_path / "tap", schemas={"things": NESTED_SCHEMA})
    tap.set_rows(rows)
    lake.pipeline("things", tap.source())
    lake.run("things")

    table = lake.read_table(TABLE)
    schema = table.schema
    assert str(schema.field("address").type) == (
        "struct<city: string, geo: struct<lat: double, lon: double>>")
    assert pa.types.is_list(schema.field("tags").type)
    assert schema.field("tags").type.value_type == pa.string()
    assert pa.types.is_list(schema.field("lines").type)
    assert schema.field("lines").type.value_type == pa.struct(
        [("sku", pa.string()), ("qty", pa.int64())])
    assert str(schema.field("extra").type) == "string"  # an object without properties: JSON text
    got = sorted(table.to_pylist(), key=lambda r: r["id"])
    assert [r["address"] for r in got] == [r["address"] for r in rows]
    assert [r["tags"] for r in got] == [["a", "b"], [], None]
    assert [r["lines"] for r in got] == [r["lines"] for r in rows]
    assert json.loads(got[0]["extra"]) == {"any": [1, 2]}
    assert got[1]["extra"] is None and got[2]["extra"] is None

    manifest_types = {c["name"]: c["type"] for c in lake.entry(TABLE)["columns"]}
    assert manifest_types["tags"].startswith("list<") and "string" in manifest_types["tags"]
    assert manifest_types["address"] == (
        "struct<city: string, geo: struct<lat: double, lon: double>>")
    # DuckDB reads the nested columns natively.
    path = lake.local_root / LOCATION / "things_0000.parquet"
    assert duckdb.sql(f"SELECT id, address.geo.lat, len(lines), lines[1].sku FROM "
                      f"read_parquet('{path}') ORDER BY id").fetchall() == [
        (1, 38.7, 2, "x"), (2, None, 0, None), (3, 41.1, 1, "z")]


def test_timestamps_with_z_and_offsets_become_utc_instants(local_lake, tmp_path):
    lake = local_lake
    schema = {"type": "object", "properties": {
        "id": {"type": "integer"},
        "at": {"type": ["null", "string"], "format": "date-time"},
        "day": {"type": ["null", "string"], "format": "date"}}}
    utc = dt.timezone.utc
    cases = [
        ("2024-01-02T03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc)),
        ("2024-01-02T03:04:05.123456Z", dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc)),
        ("2024-01-02T03:04:05+02:00", dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=utc)),
        ("2024-01-02T03:04:05.5-05:30", dt.datetime(2024, 1, 2, 8, 34, 5, 500000, tzinfo=utc)),
        ("2024-01-02T23:30:00-01:00", dt.datetime(2024, 1, 3, 0, 30, tzinfo=utc)),
        ("2024-06-30T12:00:00.000000+00:00", dt.datetime(2024, 6, 30, 12, tzinfo=utc)),
        (None, None),
    ]
    rows = [{"id": i, "at": text, "day": "2024-02-29" if i == 0 else None}
            for i, (text, _) in enumerate(cases)]
    tap = SampleTap(tmp_path / "tap", schemas={"things": schema})
    tap.set_rows(rows)
    lake.pipeline("things", tap.source())
    lake.run("things")

    table = lake.read_table(TABLE)
    assert str(table.schema.field("at").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("day").type) == "date32[day]"
    got = sorted(table.to_pylist(), key=lambda r: r["id"])
    assert [r["at"] for r in got] == [want for _, want in cases]
    assert got[0]["day"] == dt.date(2024, 2, 29)
    path = lake.local_root / LOCATION / "things_0000.parquet"
    epochs = duckdb.sql(f"SELECT epoch_us(\"at\") FROM read_parquet('{path}') ORDER BY id").fetchall()
    assert [e for (e,) in epochs][:5] == [
        int(want.timestamp() * 1_000_000) for _, want in cases[:5]]


def test_schema_change_mid_stream_starts_a_new_file(local_lake, tmp_path):
    lake = local_lake
    tap = ReplayTap(tmp_path / "tap", script="tap-sample.py")
    v1 = {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}
    v2 = {**v1, "score": {"type": ["null", "number"]}}
    tap.set_output(singer_lines(
        schema_msg("things", v1),
        *[record_msg("things", {"id": i, "name": f"n{i}"}) for i in (1, 2, 3)],
        schema_msg("things", v1),  # resent unchanged: same file
        record_msg("things", {"id": 4, "name": "n4"}),
        schema_msg("things", v2),
        *[record_msg("things", {"id": i, "name": f"n{i}", "score": i / 2}) for i in (5, 6)],
        {"type": "STATE", "value": {"done": True}},
    ))
    lake.pipeline("things", tap.source())
    lake.run("things")

    files = lake.data_files("raw")
    assert files == [f"{LOCATION}/things_0000.parquet", f"{LOCATION}/things_0001.parquet"]
    first, second = (lake.read_parquet(f) for f in files)
    assert first.column_names == ["id", "name"] and first.num_rows == 4
    assert second.column_names == ["id", "name", "score"] and second.num_rows == 2
    entry = lake.entry(TABLE)
    assert [c["name"] for c in entry["columns"]] == ["id", "name", "score"]
    assert [f["rows"] for f in entry["files"]] == [4, 2]
    assert entry["stats"]["total_rows"] == 6
    bucket = lake.local_root
    assert duckdb.sql(f"SELECT id, score FROM read_parquet('{bucket}/{LOCATION}/*.parquet', "
                      "union_by_name = true) ORDER BY id").fetchall() == [
        (1, None), (2, None), (3, None), (4, None), (5, 2.5), (6, 3.0)]


def test_streams_selection_discovers_and_passes_a_catalog(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap", streams=("things", "others", "extra"))
    tap.set_rows(sample_rows(1, 3), "things")
    tap.set_rows(sample_rows(1, 4), "others")
    tap.set_rows(sample_rows(1, 5), "extra")
    lake.pipeline("things", tap.source(streams=["things", "extra"]))
    lake.run("things")

    discover, run = tap.calls()
    assert discover["discover"] is True
    selected = {s["tap_stream_id"]: [m for m in s["metadata"] if m["breadcrumb"] == []][0]
                ["metadata"]["selected"] for s in run["catalog"]["streams"]}
    assert selected == {"things": True, "others": False, "extra": True}
    tables = lake.manifest()["tables"]
    assert sorted(tables) == ["sample/extra", "sample/things"]
    assert tables["sample/things"]["stats"]["total_rows"] == 3
    assert tables["sample/extra"]["stats"]["total_rows"] == 5
    assert lake.data_files("raw/sample/others") == []
    assert rows_of(lake.read_table("sample/extra"), "id") == [(i,) for i in range(1, 6)]


def test_streams_selection_of_an_unknown_stream_fails_naming_it(local_lake, tmp_path):
    lake = local_lake
    tap = SampleTap(tmp_path / "tap", streams=("things",))
    tap.set_rows(sample_rows(1, 3))
    lake.pipeline("things", tap.source(streams=["things", "nope"]))
    proc = lake.run("things", check=False)
    assert proc.returncode == 1
    assert proc.stderr == ("lakepipe: error: pipeline 'things': stream 'nope' is not in the "
                           "catalog of tap 'tap-sample.py'\n")
    assert lake.data_files() == []


def test_destinations_list_lands_the_table_in_every_bucket(make_lake, tmp_path):
    local, s3 = make_lake("file"), make_lake("s3")
    tap = SampleTap(tmp_path / "tap")
    tap.set_rows(sample_rows(1, 6))
    local.pipeline("things", tap.source(), incremental={"enabled": True},
                   destinations=[{"bucket": local.bucket},
                                 {"bucket": s3.bucket, "path": "landing"}])
    local.run("things", env=s3.backend.env)
    for lake, location in ((local, LOCATION), (s3, "landing/sample/things")):
        entry = lake.entry(TABLE)
        assert entry["location"] == location
        assert entry["stats"]["total_rows"] == 6
        assert sorted(lake.read_table(TABLE).column("id").to_pylist()) == list(range(1, 7))
        assert lake.state("things") == {"bookmarks": {"things": {"id": 6}}}
        assert [log["status"] for log in lake.logs("things")] == ["success"]
