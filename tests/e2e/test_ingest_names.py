"""Names from taps, databases and files never leave the bucket (issue 14 §1): streams,
tables and sources map to one path segment each (docs/FORMATS.md "Names in paths"), the
manifest keeps the original names, and a name that cannot be mapped fails the run without
leaving the pipeline stuck."""
import os

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingest_support import (TAP_POSTGRES, ReplayTap, record_msg, schema_msg, singer_lines,
                            tap_postgres_config)

PROPS = {"id": {"type": "integer"}}


def replay(lake, tmp_path, stream, rows=(1, 2, 3), name="hostile", **top):
    tap = ReplayTap(tmp_path / f"tap-{name}")
    tap.set_output(singer_lines(schema_msg(stream, PROPS),
                                *[record_msg(stream, {"id": i}) for i in rows]))
    lake.pipeline(name, tap.source(), **top)
    return tap


def outside_files(root):
    """Every file below `root` except the bucket's own."""
    found = []
    for folder, _, files in os.walk(root):
        if "bucket" in folder.split(os.sep):
            continue
        found += [os.path.join(folder, f) for f in files if f.endswith(".parquet")]
    return found


def test_a_stream_named_with_dot_dot_lands_inside_its_table_folder(local_lake, tmp_path):
    lake = local_lake
    stream = "../../../x"
    # A full refresh used to delete Parquet files where the name pointed: one is waiting there.
    bystander = lake.local_root.parent / "x_0000.parquet"
    pq.write_table(pa.table({"keep": [1]}), bystander)
    replay(lake, tmp_path, stream)
    lake.run("hostile")
    replay(lake, tmp_path, stream, rows=(4, 5))
    lake.run("hostile", "--full")

    entry = lake.entry(f"replay/{stream}")
    assert entry["table"] == stream  # the manifest keeps the tap's name
    assert entry["location"] == "raw/replay/~2E.~2F..~2F..~2Fx"
    assert lake.data_files() == ["raw/replay/~2E.~2F..~2F..~2Fx/~2E.~2F..~2F..~2Fx_0001.parquet"]
    assert outside_files(tmp_path) == [str(bystander)]
    assert pq.read_table(bystander).to_pylist() == [{"keep": 1}]
    # Readers that glob the location see exactly the committed rows.
    glob = f"{lake.local_root}/{entry['location']}/*.parquet"
    assert duckdb.sql(f"SELECT list(id ORDER BY id) FROM read_parquet('{glob}')").fetchone()[0] == [4, 5]
    assert sorted(pl.read_parquet(glob)["id"].to_list()) == [4, 5]


def test_names_with_separators_partition_signs_and_spaces_stay_one_segment(local_lake, tmp_path):
    lake = local_lake
    for i, stream in enumerate(["a/b", "dt=2026-01-01", "with space", ".hidden", "ñandú~1"]):
        replay(lake, tmp_path, stream, name=f"p{i}")
        lake.run(f"p{i}")
    locations = sorted(e["location"] for e in lake.manifest()["tables"].values())
    assert locations == sorted([
        "raw/replay/a~2Fb", "raw/replay/dt~3D2026-01-01", "raw/replay/with~20space",
        "raw/replay/~2Ehidden", "raw/replay/~C3~B1and~C3~BA~7E1"])
    for location in locations:
        folder = lake.local_root / location
        assert [p.name for p in folder.iterdir()] == [f"{folder.name}_0000.parquet"]


def test_a_stream_name_too_long_for_a_path_fails_clearly_and_leaves_nothing_stuck(
        local_lake, tmp_path):
    lake = local_lake
    long_name = "s" * 300
    replay(lake, tmp_path, long_name, name="longname")
    proc = lake.run("longname", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("lakepipe: error: pipeline 'longname': ")
    assert "too long for a path (300 bytes once encoded, at most 200)" in proc.stderr
    assert lake.journal("longname") == []
    assert lake.data_files() == []
    # The tap is fixed: the next run starts clean and lands the table.
    replay(lake, tmp_path, "short", name="longname")
    lake.run("longname")
    assert lake.entry("replay/short")["stats"]["total_rows"] == 3


def test_a_journal_that_lists_an_impossible_path_does_not_block_the_pipeline(local_lake, tmp_path):
    lake = local_lake
    replay(lake, tmp_path, "things", name="stuck")
    journal = lake.local_root / ".dataspoc/journal/stuck/20260101T000000Z-00000000.json"
    journal.parent.mkdir(parents=True)
    journal.write_text('{"version": 1, "pipeline": "stuck", "run_id": "20260101T000000Z-00000000",'
                       ' "status": "running", "written": ["raw/replay/' + "x" * 300 +
                       '/t_0000.parquet"]}')
    lake.run("stuck")
    assert not journal.exists()
    assert lake.entry("replay/things")["stats"]["total_rows"] == 3


def test_a_symlink_loop_in_a_table_folder_cannot_make_a_full_refresh_delete_its_files(
        local_lake, tmp_path):
    lake = local_lake
    replay(lake, tmp_path, "things", name="looped")
    lake.run("looped")
    folder = lake.local_root / "raw/replay/things"
    os.symlink(".", folder / "loop")
    os.symlink(".", folder / "dt=2026-01-01")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    pq.write_table(pa.table({"keep": [1]}), outside / "things_0000.parquet")
    os.symlink(outside, folder / "dt=2026-01-02")
    replay(lake, tmp_path, "things", rows=(7, 8), name="looped")
    lake.run("looped", "--full")
    entry = lake.entry("replay/things")
    assert [f["path"] for f in entry["files"]] == ["raw/replay/things/things_0001.parquet"]
    assert pq.read_table(lake.local_root / entry["files"][0]["path"])["id"].to_pylist() == [7, 8]
    assert (outside / "things_0000.parquet").exists()


def test_destination_path_must_be_plain_and_a_source_name_is_one_segment(local_lake, tmp_path):
    lake = local_lake
    replay(lake, tmp_path, "things", name="badpath", destination={"bucket": lake.bucket,
                                                                   "path": "raw/../.."})
    proc = lake.run("badpath", check=False)
    assert proc.returncode == 1
    assert ("destination.path 'raw/../..': every segment must be a plain name (letters, "
            "digits, '_', '-', '.' not first), got '..'") in proc.stderr
    assert lake.data_files() == []
    # A source name is one segment too.
    tap = replay(lake, tmp_path, "things", name="upsource")
    lake.pipeline("upsource", {**tap.source(), "name": "../up"})
    lake.run("upsource")
    assert lake.entry("../up/things")["location"] == "raw/~2E.~2Fup/things"
    assert lake.data_files() == ["raw/~2E.~2Fup/things/things_0000.parquet"]


def test_a_postgres_table_named_like_a_path_stays_in_its_folder_with_the_real_tap(
        local_lake, postgres, tmp_path):
    lake = local_lake
    postgres.psql('DROP TABLE IF EXISTS "x/../../y"')
    postgres.psql('CREATE TABLE "x/../../y" (id integer PRIMARY KEY)')
    postgres.psql('INSERT INTO "x/../../y" SELECT generate_series(1, 5)')
    stream = "public-x/../../y"
    lake.pipeline("pg-hostile", {
        "tap": str(TAP_POSTGRES),
        "config": tap_postgres_config(postgres),
        "streams": [stream],
    })
    lake.run("pg-hostile", timeout=180)
    entry = lake.entry(f"postgres/{stream}")
    assert entry["location"] == "raw/postgres/public-x~2F..~2F..~2Fy"
    assert outside_files(tmp_path) == []
    assert lake.read_table(f"postgres/{stream}")["id"].to_pylist() == [1, 2, 3, 4, 5]
